"""The floor: a minimal ASGI app on uvicorn answering SPARQL GETs from one
in-process pyoxigraph store, with no workers, limits or checks.

    python benchmarks/floor_app.py PORT FILE.nt
"""

import sys
from urllib.parse import parse_qs

import pyoxigraph as ox
import uvicorn

store = ox.Store()
store.bulk_load(path=sys.argv[2], format=ox.RdfFormat.N_TRIPLES)


async def app(scope, receive, send):  # type: ignore[no-untyped-def]
    if scope["type"] != "http":
        return
    query = parse_qs(scope["query_string"].decode())["query"][0]
    body = store.query(query).serialize(format=ox.QueryResultsFormat.JSON)
    headers = [(b"content-type", b"application/sparql-results+json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", access_log=False)
