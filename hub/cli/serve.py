"""``hub serve``: the products' webhooks as real-time triggers of the handoffs."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Annotated

import typer
from rich.markup import escape

from handoff_hub.hub.cli.common import ConfigOption, admin_errors, load
from handoff_hub.hub.cli.console import console

__all__ = ["reregister_names", "serve_command"]


def reregister_names(values: Sequence[str]) -> dict[str, list[str]]:
    """``asana/delivery`` -> ``{"asana": ["delivery"]}``; a value without a slash is refused."""
    names: dict[str, list[str]] = {}
    for value in values:
        connector, slash, name = value.partition("/")
        if not slash or not connector or not name:
            raise typer.BadParameter(f"{value!r}: expected CONNECTOR/NAME, e.g. asana/delivery")
        names.setdefault(connector, []).append(name)
    return names


def serve_command(
    config: ConfigOption,
    host: Annotated[
        str | None, typer.Option("--host", help="Interface to listen on (default: webhooks.host)")
    ] = None,
    port: Annotated[
        int | None,
        typer.Option("--port", min=1, max=65535, help="Port (default: webhooks.port)"),
    ] = None,
    reregister: Annotated[
        list[str] | None,
        typer.Option(
            "--reregister",
            metavar="CONNECTOR/NAME",
            help=(
                "Let one new handshake replace the stored secret of the webhook at"
                " /webhooks/CONNECTOR/NAME, e.g. asana/delivery (repeatable)"
            ),
        ),
    ] = None,
    asana_reregister: Annotated[
        list[str] | None, typer.Option("--asana-reregister", hidden=True)
    ] = None,
) -> None:
    """Receive the products' webhooks and run the matching handoffs for the changed records."""
    import uvicorn

    from handoff_hub.hub.runtime import open_runtime
    from handoff_hub.hub.webhooks.app import create_app
    from handoff_hub.hub.webhooks.server import server_config
    from handoff_hub.hub.webhooks.settings import webhook_config

    with admin_errors():
        loaded = load(config)
        again = reregister_names(
            [*(reregister or ()), *(f"asana/{n}" for n in asana_reregister or ())]
        )
        settings = webhook_config(loaded, reregister=again)
        runtime = open_runtime(loaded)
    host = host or settings.host
    port = port or settings.port
    logging.getLogger("hub.webhooks").setLevel(logging.INFO)
    console.print(f"[bold]hub serve[/] on http://{host}:{port} · {escape(str(config))}")
    for product, paths in settings.paths().items():
        console.print(f"  {product}: {', '.join(paths)}", markup=False)
    app = create_app(lambda: runtime, settings)
    try:
        uvicorn.Server(server_config(app, settings, host=host, port=port)).run()
    except KeyboardInterrupt:  # uvicorn raises the captured Ctrl-C again once it has stopped
        pass
    finally:
        runtime.close()
