"""Request dependencies: the services built at startup and the caller's principal."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request

from gateway.auth import Principal, authenticate
from gateway.services.container import Services


def services(request: Request) -> Services:
    return request.app.state.services


async def principal(request: Request, authorization: Annotated[str | None, Header()] = None) -> Principal:
    svc: Services = request.app.state.services
    async with svc.sessions() as session:
        return await authenticate(session, authorization)


ServicesDep = Annotated[Services, Depends(services)]
PrincipalDep = Annotated[Principal, Depends(principal)]
