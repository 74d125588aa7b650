"""The web app manifest (W3C Web Application Manifest), as ``/app/manifest.webmanifest`` serves it."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel


class ManifestIcon(BaseModel):
    src: str
    sizes: str
    type: str
    purpose: Literal["any", "maskable", "monochrome"]


class WebManifest(BaseModel):
    id: str
    name: str
    short_name: str
    description: str
    lang: str
    dir: Literal["ltr", "rtl", "auto"]
    start_url: str
    scope: str
    display: Literal["fullscreen", "standalone", "minimal-ui", "browser"]
    orientation: str
    background_color: str
    theme_color: str
    categories: list[str]
    icons: list[ManifestIcon]
