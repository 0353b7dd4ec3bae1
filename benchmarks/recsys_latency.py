"""Feed latency per refresh with lazy, incremental recommenders vs an OASIS-style recompute.

For each scale (users x recent posts) the script builds a Twitter platform on a file
database: a synthetic population (`generate_population` + bulk `sign_up_population`, with
its ~10 follows per user), then the posts, written by random users from their interests
(the offline agents' template writer) over the last 100 ticks, with Zipf-distributed likes.
Then, with the default embedder (hashing) and recommender (`twitter`):

* index build: the first refresh mirrors the posts, embeds all of them in batches and
  reads the follower counts (once per run; never per user);
* recommend: `recommender.recommend(user, now, max_rec_post_len)` for distinct random
  users, each on their first refresh (so the lazy profile embedding is included);
* refresh: the whole `refresh` action for other users (recommend, followees' posts,
  rec-table rewrite, rendering, trace row);
* refresh + 1 new post: a post is created before each refresh (it is embedded, in a batch
  of one, by the next recommendation, and the window's weights are extended);
* proportionality: total recommender time for R/4 vs R refreshes.

The OASIS-style full recompute (every step: embed every profile and the candidate posts,
rank the window for every user, rewrite the whole rec table) runs in the same process on
the same data with the same embedder and formula; with a million users it would take a
long time, so its per-user part is timed on a sample of users and extrapolated (the
output says so). Ratios: one full recompute / one lazy refresh, and per user.

    python benchmarks/recsys_latency.py                     # 10k x 50k, 100k x 100k, 1M x 100k
    python benchmarks/recsys_latency.py --scales 100000x100000 --refreshes 500
    options: --scales --refreshes --oasis-sample --recommender --seed --db-dir
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import Contention, machine_info, print_machine, table, write_results

from oasis_des import Platform
from oasis_des.agents.signup import sign_up_population
from oasis_des.agents.synthetic import generate_population
from oasis_des.platform.recsys.index import fan_score
from oasis_des.platform.recsys.ranking import SIM_FLOOR, recency
from oasis_des.policies.writing import write_post
from oasis_des.rng import KeyedStream

POST_TICKS = 100  # posts are spread over the last 100 ticks (all of them recent)
TICK = 3.0


def peak_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def build(n_users: int, n_posts: int, seed: int, db: Path, recommender: str) -> tuple[Platform, float]:
    """A platform with the population and the posts; returns it and the setup seconds."""
    t0 = time.perf_counter()
    population = generate_population(n_users, seed=seed)
    p = Platform(db_path=db, kind="twitter", tick=TICK, seed=seed, recommender=recommender)
    sign_up_population(p, population)
    rng = np.random.default_rng(seed)
    authors = rng.integers(0, n_users, n_posts)
    interests = population.interests
    texts = [
        write_post(interests[a], float(population.stance[a]), rng.random(5)) for a in authors
    ]
    ticks = np.sort(rng.integers(0, POST_TICKS, n_posts))
    likes = np.minimum(rng.zipf(2.0, n_posts) - 1, n_users - 1)
    conn = p.connection
    with p.store.atomic():
        conn.executemany(
            "INSERT INTO post (user_id, content, created_at, num_likes) VALUES (?, ?, ?, ?)",
            zip(authors.tolist(), texts, ticks.tolist(), likes.tolist()),
        )
    p.content_version += 1  # rows inserted behind the platform's back
    p.now = POST_TICKS * TICK
    return p, time.perf_counter() - t0


def percentiles(samples: list[float]) -> tuple[float, float, float]:
    a = np.asarray(samples) * 1e3
    return float(np.median(a)), float(np.percentile(a, 95)), float(a.mean())


def time_recommend(p: Platform, users: np.ndarray) -> tuple[list[float], float]:
    """Wall seconds of each call, and CPU seconds per call."""
    k = p.settings.max_rec_post_len
    out = []
    cpu = time.process_time()
    for u in users.tolist():
        rng = KeyedStream(0, "bench", u)
        t = time.perf_counter()
        p.recommender.recommend(u, p.now, k, rng)
        out.append(time.perf_counter() - t)
    return out, (time.process_time() - cpu) / len(users)


def time_refresh(p: Platform, users: np.ndarray, *, new_posts: bool) -> tuple[list[float], float]:
    out = []
    cpu = time.process_time()
    with p.batch():
        for i, u in enumerate(users.tolist()):
            if new_posts:
                p.execute(u, "create_post", content=f"Fresh take number {i} on pets and coffee")
            t = time.perf_counter()
            result = p.execute(u, "refresh")
            out.append(time.perf_counter() - t)
            assert result["success"], result
    return out, (time.process_time() - cpu) / len(users)


def oasis_full_recompute(p: Platform, sample: np.ndarray) -> dict[str, float]:
    """OASIS's step: every profile and candidate post re-embedded, every user ranked, the
    whole rec table rewritten. Posts are embedded once (shared by all users); the per-user
    part is timed on `sample` users."""
    conn = p.connection
    index = p.feed_index
    embedder = index.embedder
    k = p.settings.max_rec_post_len
    lo = index.window_start
    t = time.perf_counter()
    rows = conn.execute(
        "SELECT post_id, user_id, content, created_at FROM post WHERE post_id >= ? ORDER BY post_id",
        (lo,),
    ).fetchall()
    ids = np.array([r[0] for r in rows])
    authors = np.array([r[1] for r in rows])
    vectors = embedder.embed([r[2] for r in rows])
    followers = np.zeros(authors.max() + 1)
    for uid, count in conn.execute("SELECT user_id, num_followers FROM user"):
        if uid < len(followers):
            followers[uid] = count
    weights = (recency(index.now_tick(p.now) - np.array([r[3] for r in rows], float))
               * fan_score(followers[authors])).astype(np.float32)
    t_posts = time.perf_counter() - t

    t = time.perf_counter()
    placeholders = ",".join("?" * len(sample))
    bios = [r[0] or "" for r in conn.execute(
        f"SELECT bio FROM user WHERE user_id IN ({placeholders})", sample.tolist())]
    profiles = embedder.embed(bios)
    recs: list[tuple[int, int]] = []
    for start in range(0, len(sample), 256):  # a block of users at a time (memory)
        sims = profiles[start : start + 256] @ vectors.T
        np.maximum(sims, 0.0, out=sims)
        scores = (sims + SIM_FLOOR) * weights
        own = authors[None, :] == sample[start : start + 256, None]
        scores[own] = -np.inf
        top = np.argpartition(-scores, k, axis=1)[:, :k]
        for u, row in zip(sample[start : start + 256].tolist(), top):
            recs.extend((u, int(ids[j])) for j in row)
    with p.store.atomic():
        conn.execute(f"DELETE FROM rec WHERE user_id IN ({placeholders})", sample.tolist())
        conn.executemany("INSERT OR IGNORE INTO rec (user_id, post_id) VALUES (?, ?)", recs)
    t_users = time.perf_counter() - t
    return {"posts_s": t_posts, "sample_users_s": t_users}


def run_scale(n_users: int, n_posts: int, args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    say = print
    say(f"\n== {n_users:,} users x {n_posts:,} posts ==")
    p, setup_s = build(n_users, n_posts, args.seed, tmp / f"recsys_{n_users}_{n_posts}.db",
                       args.recommender)
    say(f"setup (population, sign-up, posts): {setup_s:.1f} s, peak RSS {peak_gb():.2f} GiB")
    rng = np.random.default_rng(args.seed + 1)
    users = rng.choice(n_users, size=min(n_users, 3 * args.refreshes + 1), replace=False)
    t = time.perf_counter()
    p.recommender.recommend(int(users[0]), p.now, p.settings.max_rec_post_len, KeyedStream(0, "b"))
    build_s = time.perf_counter() - t
    say(f"index build (first refresh: mirror + embed {n_posts:,} posts + followers): {build_s:.2f} s")
    r = args.refreshes
    rec, rec_cpu = time_recommend(p, users[1 : 1 + r])
    quarter = sum(rec[: r // 4])
    ref, ref_cpu = time_refresh(p, users[1 + r : 1 + 2 * r], new_posts=False)
    churn, churn_cpu = time_refresh(p, users[1 + 2 * r : 1 + 3 * r], new_posts=True)
    sample = np.sort(users[1 : 1 + min(args.oasis_sample, r)])
    oasis = oasis_full_recompute(p, sample)
    per_user = oasis["sample_users_s"] / len(sample)
    full_s = oasis["posts_s"] + per_user * n_users
    med = percentiles(rec)[0] / 1e3
    result = {
        "users": n_users,
        "posts": n_posts,
        "setup_s": setup_s,
        "index_build_s": build_s,
        "recommend_ms": percentiles(rec),
        "refresh_ms": percentiles(ref),
        "refresh_new_post_ms": percentiles(churn),
        "cpu_ms": {"recommend_ms": rec_cpu * 1e3, "refresh_ms": ref_cpu * 1e3,
                   "refresh_new_post_ms": churn_cpu * 1e3},
        "recommender_total_s": {"quarter": quarter, "all": sum(rec), "refreshes": r},
        "oasis": {**oasis, "sample_users": len(sample), "full_step_s": full_s,
                  "extrapolated": len(sample) < n_users},
        "ratio_full_step_per_refresh": full_s / med,
        "ratio_per_user": (full_s / n_users) / med,
        "peak_rss_gib": peak_gb(),
    }
    p.close()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scales", default="10000x50000,100000x100000,1000000x100000",
                        help="comma-separated USERSxPOSTS")
    parser.add_argument("--refreshes", type=int, default=2000, help="timed refreshes per mode")
    parser.add_argument("--oasis-sample", type=int, default=1000,
                        help="users whose full recompute is timed (then extrapolated)")
    parser.add_argument("--recommender", default="twitter")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--db-dir", default=None, help="where the temporary databases go")
    args = parser.parse_args()
    info = machine_info()
    print_machine(info)
    contention = Contention()
    scales = [tuple(int(x) for x in s.split("x")) for s in args.scales.split(",")]
    results = []
    with tempfile.TemporaryDirectory(dir=args.db_dir) as tmp:
        for n_users, n_posts in scales:
            results.append(run_scale(n_users, n_posts, args, Path(tmp)))
    stalled = contention.stalled()
    print(f"\nrecommender {args.recommender!r}, embedder 'hashing', {args.refreshes:,} refreshes "
          f"per mode, CPU contention {'-' if stalled is None else f'{stalled:.0%}'}")
    rows = []
    for r in results:
        label = f"{r['users']:,} x {r['posts']:,}"
        for mode, key in (("recommend", "recommend_ms"), ("refresh action", "refresh_ms"),
                          ("refresh + 1 new post", "refresh_new_post_ms")):
            med, p95, mean = r[key]
            rows.append([label, mode, med, p95, mean, r["cpu_ms"][key]])
    print(table(["users x posts", "per refresh", "median ms", "p95 ms", "mean ms", "CPU ms"],
                rows, align="llrrrr"))
    rows = []
    for r in results:
        o = r["oasis"]
        how = (f"extrapolated from {o['sample_users']:,} users" if o["extrapolated"]
               else "all users")
        rows.append([f"{r['users']:,} x {r['posts']:,}", o["full_step_s"], how,
                     r["recommend_ms"][0], r["ratio_full_step_per_refresh"], r["ratio_per_user"]])
    print("\nOASIS-style full recompute of every user's feed (one step) vs one lazy refresh:")
    print(table(["users x posts", "full step s", "how", "lazy median ms",
                 "full / refresh", "full per user / refresh"], rows, align="lrlrrr"))
    rows = []
    for r in results:
        t = r["recommender_total_s"]
        n = t["refreshes"]
        rows.append([f"{r['users']:,} x {r['posts']:,}", n // 4, t["quarter"], n, t["all"],
                     (t["all"] / n) / (t["quarter"] / (n // 4)), r["index_build_s"]])
    print("\nTotal recommender time vs activations (first refreshes of distinct users):")
    print(table(["users x posts", "refreshes", "s", "refreshes", "s", "per-refresh ratio",
                 "index build s"], rows))
    path = write_results("recsys_latency", {"machine": info, "options": vars(args),
                                            "cpu_contention": stalled, "results": results})
    print(f"\nresults: {path}")


if __name__ == "__main__":
    main()
