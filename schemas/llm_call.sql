-- One row per LLM call: agents' decisions and interview answers (oasis_des/llm/usage.py).
-- endpoint, latency_s, cache_hit and attempts depend on the wall clock and on which server
-- answered, so the run digest leaves them out (oasis_des/engine/digest.py): a replay from
-- the record/replay cache has the digest of the recorded run.
CREATE TABLE IF NOT EXISTS llm_call (
    call_id INTEGER PRIMARY KEY,
    agent_id INTEGER,
    sim_time REAL,           -- simulated minutes of the observation (or the question)
    activation INTEGER,      -- the agent's activation index (interviews: interview index)
    purpose TEXT,            -- 'decide' or 'interview'
    model TEXT,
    endpoint TEXT,           -- base URL that answered; NULL for cache hits
    prompt_tokens INTEGER,   -- as the server reported (chars/4 when it reported none or no count)
    completion_tokens INTEGER,
    cost REAL,               -- USD at the profile's prices per million tokens
    latency_s REAL,          -- wall seconds including retries; 0 for cache hits
    cache_hit INTEGER,
    attempts INTEGER,        -- HTTP attempts (0 for cache hits)
    error TEXT,              -- fault category (oasis_des/llm/faults.py), NULL on success
    cached_prompt_tokens INTEGER DEFAULT 0  -- of prompt_tokens, read from the server's prompt cache
);
CREATE INDEX IF NOT EXISTS llm_call_agent_idx ON llm_call(agent_id);
