"""Serve a WSGI app on a real port in a background thread (tests and the dev run)."""
import threading

from werkzeug.serving import make_server


def serve_in_thread(wsgi_app, host: str = "127.0.0.1", port: int = 0):
    """(base_url, shutdown) for `wsgi_app` served on host:port (0 = any free port)."""
    server = make_server(host, port, wsgi_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    def shutdown():
        server.shutdown()
        thread.join(timeout=5)

    return f"http://{host}:{server.server_port}", shutdown
