"""Serving the register with waitress, on its own (`mailbot web`) or beside the daemon (`[web] enabled`).

waitress is pure Python and serves each request on a thread of a fixed pool: no compiler or C
extension on the office's server, and no fork that would share the database connections.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from waitress import wasyncore
from waitress.server import BaseWSGIServer, MultiSocketServer, create_server
from waitress.trigger import trigger

from mailbot.bootstrap import App
from mailbot.web.app import create_app

log = logging.getLogger("mailbot.web")


def make_server(
    app: App, host: str | None = None, port: int | None = None, wake: Callable[[], None] | None = None
) -> BaseWSGIServer | MultiSocketServer:
    web = app.config.web
    proxy: dict[str, object] = {}
    if web.proxies:  # only the proxy's own headers count: from the loopback, or from anywhere if exposed
        proxy = {
            "trusted_proxy": "127.0.0.1" if web.host in ("127.0.0.1", "localhost") else "*",
            "trusted_proxy_count": web.proxies,
            "trusted_proxy_headers": {"x-forwarded-for", "x-forwarded-proto"},
        }
    return create_server(
        create_app(app, wake=wake),
        host=host or web.host,
        port=web.port if port is None else port,
        threads=web.threads,
        ident="",  # no Server header naming the software
        clear_untrusted_proxy_headers=True,  # a client cannot claim another address by sending the header
        url_scheme="https" if web.secure_cookies else "http",
        **proxy,
    )


def address(server: BaseWSGIServer | MultiSocketServer) -> str:
    host, port = server.effective_host, server.effective_port
    return f"http://{host}:{port}/"


HANDOFF_SECONDS = 5.0  # for the serving thread to close its sockets itself; else they are closed here


def stop(server: BaseWSGIServer | MultiSocketServer) -> None:
    """From another thread: the serving thread closes the listening socket and every open connection
    itself, through the server's trigger, and its run() returns (keep-alive would hold it). Closed
    from here instead, they vanished under its select(), which failed with EBADF: a traceback at
    every stop of `mailbot run`. A loop that does not answer (not running, or its trigger closed)
    gets them closed here."""
    server.task_dispatcher.shutdown()
    sockets = _sockets(server)
    closed = threading.Event()

    def close_here() -> None:
        wasyncore.close_all(sockets)
        closed.set()

    pull = next((d for d in list(sockets.values()) if isinstance(d, trigger)), None)
    try:
        if pull is not None:
            pull.pull_trigger(close_here)
            if closed.wait(HANDOFF_SECONDS):
                return
    except OSError:  # its trigger is closed already (the loop shut itself after an error)
        pass
    wasyncore.close_all(sockets)


def close(server: BaseWSGIServer | MultiSocketServer) -> None:
    """Once run() has returned in this thread: close what is left."""
    server.task_dispatcher.shutdown()
    wasyncore.close_all(_sockets(server))


def _sockets(server: BaseWSGIServer | MultiSocketServer) -> dict[int, wasyncore.dispatcher]:
    return server.map if isinstance(server, MultiSocketServer) else server._map


def start_in_background(app: App, wake: Callable[[], None]) -> BaseWSGIServer | MultiSocketServer:
    """For `mailbot run`: the register on a daemon thread, `wake` rousing the daemon's outbox; stop(server) ends it."""
    server = make_server(app, wake=wake)
    threading.Thread(target=server.run, name="web", daemon=True).start()
    log.info("office register served at %s", address(server))
    return server
