"""Agents' identities: populations, persona files, synthetic generation, social graphs.

- `population`: the columnar `Population` the engine and policies read.
- `loaders.load_population` / `read_personas`: OASIS Twitter CSV (`oasis_twitter`), OASIS
  Reddit JSON (`oasis_reddit`) and our JSONL (`persona_jsonl`, `persona_records`), fully
  validated (`fields`, `errors.PersonaFileError`).
- `synthetic.generate_population`: seeded synthetic users (`wordlists`, `activity`,
  `topics`) with a follow graph (`follow_graph`).
- `signup.sign_up_population`: bulk insert into a platform's database.
- `social_graph`: degree statistics, homophily and the networkx export.
- `commands`: the `oasis-des personas` CLI.
"""
