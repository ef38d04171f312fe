"""bench.json (everything measured) and bench.md (the tables people read), written atomically."""

from __future__ import annotations

import json
from pathlib import Path

from rag.atomic import write_text


def write_bench(results: dict, out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    for name, text in (("bench.json", json.dumps(results, indent=2) + "\n"), ("bench.md", markdown(results))):
        write_text(out / name, text)
    return out


def table(header: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def markdown(results: dict) -> str:
    machine = results["machine"]
    parts = [f"# rag bench\n\n{machine['cpus']} CPUs ({machine['cpu']}; {machine.get('instructions', '?')}), "
             f"Python {machine['python']}; "
             + ", ".join(f"{k} {v}" for k, v in machine["packages"].items()) + "\n"]
    if results.get("targets"):
        parts.append("## Targets\n\n" + table(["target", "measured", "limit", "met"], [
            [t["target"], t["measured"], t["limit"], "yes" if t["met"] else "**no**"] for t in results["targets"]]))
    if "build" in results:
        rows = []
        for name, corpus in results["build"].items():
            if not isinstance(corpus, dict):
                continue
            for step in ("embedder_raw", "embed_index_save", "full_build", "sentence_transformers_raw"):
                if step in corpus:
                    m = corpus[step]
                    rows.append([name, step, corpus["chunks"], m["chunks_per_s_p50"], m["chunks_per_s_at_p95_time"]])
        parts.append(f"## Index build (embedder: {results['build']['embedder']})\n\nThe synthetic corpus is timed in "
                     "slices (chunks = one slice); `embedder_raw` is the embedder alone, `embed_index_save` what "
                     "`rag index` does after chunking, `full_build` includes reading, cleaning and spaCy chunking.\n\n"
                     + table(["corpus", "step", "chunks", "chunks/s (median)", "chunks/s (p95 time)"], rows))
    if "retrieval" in results:
        r = results["retrieval"]
        rows = [[f"{int(size):,}", row["auto_picks"], row["flat"]["latency_ms"]["p50"], row["flat"]["latency_ms"]["p95"],
                 row["ivf"]["latency_ms"]["p50"], row["ivf"]["latency_ms"]["p95"], row["ivf"]["recall_at_10"],
                 row["ivf"]["lists"], row["ivf"]["build_s"]] for size, row in r["sizes"].items()]
        parts.append(f"## Vector search ({r['queries']} queries, top 10, IVF nprobe {r['nprobe']})\n\n" + table(
            ["vectors", "auto picks", "flat p50 ms", "flat p95 ms", "IVF p50 ms", "IVF p95 ms", "IVF recall@10",
             "IVF lists", "IVF build s"], rows))
    if "postgres" in results:
        r = results["postgres"]
        rows = [[f"{int(size):,}", row["load_chunks_per_s"], row["load_s"], row["add_chunks_per_s"], row["latency_ms"]["p50"],
                 row["latency_ms"]["p95"], row["recall_at_10"]] for size, row in r["sizes"].items()]
        curve = "; ".join(f"{int(size):,} chunks: " + ", ".join(
            f"ef_search {ef} → p50 {v['p50_ms']} ms, recall@10 {v['recall_at_10']}" for ef, v in row["by_ef_search"].items())
            for size, row in r["sizes"].items())
        server = ", ".join(f"{name} {value}" for name, value in r.get("server", {}).items())
        parts.append(f"## PostgreSQL store (pgvector HNSW, ef_search {r['ef_search']}; {r['queries']} queries, top 10)\n\n"
                     f"Server: {server}.\n\n"
                     "Loaded through the store's write path, embedding excluded: the whole corpus in one transaction "
                     "as `rag index` does (COPY, then the HNSW and stem indexes built), then documents of 10 chunks added one "
                     "transaction each as `POST /documents` does. Recall against exact search on the same "
                     "vectors.\n\n" + table(["chunks", "load chunks/s", "load s", "add chunks/s", "query p50 ms",
                                              "query p95 ms", "recall@10"], rows) + f"\n\nOther ef_search values: {curve}.")
    if "service" in results:
        s = results["service"]
        one, server_side = s["ask_one_client_ms"], s["ask_server_side_ms"]
        rows = [[clients, t["requests"], t["requests_per_s"], t["latency_ms"]["p50"], t["latency_ms"]["p95"],
                 t["errors"], t["rejected_503"]] for clients, t in s["throughput"].items()]
        parts.append(
            f"## Service (live `rag serve` on 127.0.0.1)\n\n/ask, one client: p50 {one['p50']} ms, p95 {one['p95']} ms "
            f"({one['n']} requests; server-side p50 {server_side['p50']} ms). Server ready "
            f"{s['server_start_to_ready_s']} s after start. Server memory: peak {s['server_memory_mib']['peak']} MiB.\n\n"
            + table(["clients", "requests", "requests/s", "p50 ms", "p95 ms", "errors", "503"], rows))
    if "cold_start" in results:
        c = results["cold_start"]
        parts.append(f"## Cold start\n\n`{c['command']}` in a fresh process: p50 {c['seconds']['p50']:.2f} s, "
                     f"p95 {c['seconds']['p95']:.2f} s ({c['seconds']['n']} runs).")
    if "seq2seq" in results:
        s = results["seq2seq"]
        o = s["outputs"]
        parts.append(
            f"## Seq2seq generation ({s['model']}; {s['input_tokens']} input tokens, {s['output_tokens']} output, greedy)\n\n"
            + table(["runtime", "p50 ms", "p95 ms"], [[name, s[name]["ms"]["p50"], s[name]["ms"]["p95"]]
                                                      for name in ("transformers_fp32", "ctranslate2_int8")])
            + f"\n\nSpeed-up (p50): {s['speedup_p50']}x. Greedy outputs of int8 identical to fp32 on "
            f"{o['identical']} of {o['prompts']} prompts ({o['distinct_tokens']} distinct tokens in the fp32 outputs)"
            + "".join(f"; prompt {d['prompt']} first differs at token {d['first_different_token']} "
                      f"({d['tokens_equal']} of {d['of']} equal)" for d in o["differences"])
            + f". CTranslate2 float32 (same conversion, no quantisation) identical on "
            f"{s['outputs_ctranslate2_float32']['identical']} of {o['prompts']}.")
    if "peers" in results:
        p = results["peers"]
        rows = [["index build ms (p50)", p["build_ms"]["langchain"]["p50"], p["build_ms"]["ours"]["p50"], "-",
                 p["build_ms"]["ratio_langchain_to_ours_p50"]],
                ["retrieval ms (p50, incl. query embedding)", p["retrieval_ms"]["langchain"]["p50"],
                 p["retrieval_ms"]["ours_dense"]["p50"], p["retrieval_ms"]["ours_hybrid"]["p50"],
                 p["retrieval_ms"]["ratio_langchain_to_ours_dense_p50"]],
                ["recall@5 (documents)", p["recall_at_5"]["langchain"], p["recall_at_5"]["ours_dense"],
                 p["recall_at_5"]["ours_hybrid"], "-"]]
        parts.append(f"## Against LangChain (FAISS + HuggingFaceEmbeddings, same model, {p['chunks']} chunks, "
                     f"{p['questions']} questions)\n\n" + table(
                         ["measure", "LangChain", "ours (dense)", "ours (hybrid)", "LangChain / ours dense"], rows)
                     + f"\n\nSame top-5 chunks as ours (dense): {p['same_top5_chunks_as_ours_dense']}.")
    return "\n\n".join(parts) + "\n"
