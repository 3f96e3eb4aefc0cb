"""p50/p95 latency of the public Datasette's search and facet pages, in process and over HTTP.

    python benchmarks/serve_latency.py build/cotour.db [runs]
"""

import asyncio
import statistics
import sys
import threading
import time
import urllib.request

import uvicorn

from kb.store.public import public_path_for, require_public
from kb.serve.app import make_datasette

PAGES = {
    "search findings (HTML)": "/cotour/findings?_search=cooperativa",
    "search findings (JSON)": "/cotour/findings.json?_search=spazi+condivisi",
    "search notes (HTML)": "/cotour/notes?_search=welfare",
    "findings + default facets": "/cotour/findings",
    "facet array themes + filter": "/cotour/findings?_facet_array=themes&province=BO",
    "organisations + facets": "/cotour/organisations",
    "canned cerca": "/cotour/cerca?testo=cooperativa",
    "canned pratiche_ricorrenti": "/cotour/pratiche_ricorrenti?tipo=",
}


def percentiles(samples):
    ordered = sorted(samples)
    return (statistics.median(ordered) * 1000,
            ordered[max(0, int(round(0.95 * len(ordered))) - 1)] * 1000)


def in_process(ds, runs):
    loop = asyncio.new_event_loop()
    out = {}
    for name, path in PAGES.items():
        loop.run_until_complete(ds.client.get(path))  # warm up
        samples = []
        for _ in range(runs):
            start = time.perf_counter()
            response = loop.run_until_complete(ds.client.get(path))
            samples.append(time.perf_counter() - start)
            assert response.status_code == 200, (path, response.status_code)
        out[name] = percentiles(samples)
    return out


def over_http(ds, runs, port=8765):
    server = uvicorn.Server(uvicorn.Config(ds.app(), host="127.0.0.1", port=port,
                                           log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    out = {}
    try:
        for name, path in PAGES.items():
            url = f"http://127.0.0.1:{port}{path}"
            urllib.request.urlopen(url).read()
            samples = []
            for _ in range(runs):
                start = time.perf_counter()
                urllib.request.urlopen(url).read()
                samples.append(time.perf_counter() - start)
            out[name] = percentiles(samples)
    finally:
        server.should_exit = True
        thread.join()
    return out


def main():
    db = sys.argv[1] if len(sys.argv) > 1 else "build/cotour.db"
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 50
    ds = make_datasette(require_public(public_path_for(db)))
    for label, results in (("in process", in_process(ds, runs)),
                           ("HTTP, uvicorn", over_http(ds, runs))):
        print(f"\n{label}, {runs} runs each          p50 ms   p95 ms")
        for name, (p50, p95) in results.items():
            print(f"  {name:32} {p50:7.1f}  {p95:7.1f}")


if __name__ == "__main__":
    main()
