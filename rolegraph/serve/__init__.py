"""`rolegraph serve`: the agents of a folder over HTTP, and the web app that draws them.

    rolegraph serve examples/            # http://127.0.0.1:8000/
    rolegraph ui examples/self_refine.agent

The parts, one idea each: `catalog` (the folder's checked agents), `inputs` (a request's
inputs against an agent's parameters, as diagnostics), `openapi` (the schema),
`journal` (what the server accepted, in the store's SQLite file), `runner` (runs in
flight, their events, resume on start-up), `routes` (the HTTP handlers), `app` (the
Starlette application) and `static/` (the web app: plain HTML, CSS, JavaScript, SVG).

Starlette and uvicorn come with the `serve` extra; nothing here is imported by
`import rolegraph` or by the other commands.
"""
