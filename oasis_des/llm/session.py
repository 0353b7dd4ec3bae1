"""What the LLM policies of one run share: the record/replay cache and the usage log."""

from __future__ import annotations

from oasis_des.llm.cache import ResponseCache
from oasis_des.llm.usage import UsageLog


class LLMSession:
    """The cache (or None) and the usage log of a run, and whether interviews are remembered."""

    def __init__(self, cache: ResponseCache | None = None, *, remember_interviews: bool = False):
        self.cache = cache
        self.usage = UsageLog()
        self.remember_interviews = remember_interviews

    @classmethod
    def open(cls, cache: str, mode: str, *, remember_interviews: bool = False) -> LLMSession:
        """A session with the cache file `cache` in `mode` ("" or "off": no cache)."""
        if mode == "replay" and not cache:
            raise ValueError("LLM cache mode 'replay' needs a cache file (--llm-cache FILE, or "
                             "llm.cache in the config).")
        store = ResponseCache(cache, mode) if cache and mode != "off" else None  # type: ignore[arg-type]
        return cls(store, remember_interviews=remember_interviews)

    def close(self) -> None:
        if self.cache is not None:
            self.cache.close()
