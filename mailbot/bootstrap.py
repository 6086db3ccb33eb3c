"""The composition root: build the adapters from the config once and hand them to the desk."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import Engine

from mailbot.adapters.db import make_engine
from mailbot.adapters.imap import ImapSource
from mailbot.adapters.maildir import MaildirSource
from mailbot.adapters.registry_store import sync_units
from mailbot.adapters.render import Renderer
from mailbot.adapters.smtp import DirectoryTransport, SmtpTransport
from mailbot.adapters.storage import Storage
from mailbot.config import Config
from mailbot.ingest import Desk
from mailbot.ports import Source


@dataclass
class App:
    config: Config
    engine: Engine
    desk: Desk
    source: Source
    transport: SmtpTransport | DirectoryTransport


def build_source(config: Config) -> Source:
    mb = config.mailbox
    if mb.kind == "maildir":
        return MaildirSource(config.resolve(mb.path), mb.folder)
    return ImapSource(mb)


def build_transport(config: Config) -> SmtpTransport | DirectoryTransport:
    if config.smtp.kind == "directory":
        return DirectoryTransport(config.resolve(config.smtp.directory))
    return SmtpTransport(config.smtp)


def build(config: Config) -> App:
    storage_dir = config.storage_dir()
    storage_dir.mkdir(parents=True, exist_ok=True)
    url = config.database_url()
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        Path(url[len("sqlite:///") :]).parent.mkdir(parents=True, exist_ok=True)
    engine = make_engine(url, schema=config.database.schema)
    sync_units(engine, config.units)
    desk = Desk(config, engine, Storage(storage_dir), Renderer())
    return App(config, engine, desk, build_source(config), build_transport(config))
