"""Writing: posts, reposts, quotes, comments and reports."""

from __future__ import annotations

from oasis_des.platform.state import ActionFailed, Outcome, PlatformState


class PostActions(PlatformState):
    def _act_create_post(self, uid: int, content: str) -> Outcome:
        pid = self.posts.insert(uid, content, self._stamp())
        self.views.created(pid)
        return {"post_id": pid}, {"content": content, "post_id": pid}

    def _act_repost(self, uid: int, post_id: int) -> Outcome:
        root, _ = self._root(post_id)
        # Only the user's own reposts block a repost; an earlier quote does not (fix).
        if self.engagement.has("repost", uid, root):
            raise ActionFailed("Repost record already exists.")
        new_id = self.posts.insert(uid, "", self._stamp(), original_post_id=root)
        self.engagement.add("repost", uid, root)
        self._add_share(root)
        return {"post_id": new_id}, {"reposted_id": post_id, "new_post_id": new_id}

    def _act_quote_post(self, uid: int, post_id: int, quote_content: str) -> Outcome:
        original = self._post(post_id)[2]
        target = post_id if original is None else original
        content = self._post(target)[3]
        new_id = self.posts.insert(uid, content, self._stamp(), original_post_id=target,
                                   quote_content=quote_content)
        self.views.created(new_id)
        self._add_share(target)
        return {"post_id": new_id}, {"quoted_id": post_id, "new_post_id": new_id}

    def _add_share(self, post_id: int) -> None:
        self.posts.add(post_id, "num_shares", 1)
        self.views.changed(post_id)

    def _act_create_comment(self, uid: int, post_id: int, content: str) -> Outcome:
        root, _ = self._root(post_id)
        stamp = self._stamp()
        cid = self._insert(
            "INSERT INTO comment (post_id, user_id, content, created_at) VALUES (?, ?, ?, ?)",
            (root, uid, content, stamp),
        )
        self.views.comment_created(root, cid, uid, content, stamp)
        return {"comment_id": cid}, {"content": content, "comment_id": cid}

    def _act_report_post(self, uid: int, post_id: int, report_reason: str) -> Outcome:
        dup = self.connection.execute(
            "SELECT 1 FROM report WHERE post_id = ? AND user_id = ?", (post_id, uid)
        ).fetchone()
        if dup is not None:
            raise ActionFailed("Report record already exists.")
        self._post(post_id)
        rid = self._insert(
            "INSERT INTO report (user_id, post_id, report_reason, created_at) "
            "VALUES (?, ?, ?, ?)",
            (uid, post_id, report_reason, self._stamp()),
        )
        self.posts.add(post_id, "num_reports", 1)
        self.views.changed(post_id)
        return {"report_id": rid}, {"post_id": post_id, "report_id": rid}
