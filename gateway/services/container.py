"""The services, built once at startup and shared by every request."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from gateway.services.files import FileService
from gateway.services.jobs import JobService
from gateway.services.models import ModelService
from gateway.services.reviews import ReviewService
from gateway.settings import Settings
from gateway.spool import Spool
from gateway.upstreams.base import Upstream
from policies.registry import PolicySet


@dataclass
class Services:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker
    spool: Spool
    upstreams: dict[str, Upstream]
    policies: PolicySet
    files: FileService
    jobs: JobService
    models: ModelService
    reviews: ReviewService
