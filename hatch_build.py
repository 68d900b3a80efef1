"""Wheel build step: the bundled graph prebuilt as N-Triples (see
``ntx_graph.resources.write_prebuilt``), which pyoxigraph loads in about half
the time of the Turtle; every cold query loads it. An editable install has
none and parses the Turtle."""

from __future__ import annotations

import importlib.util
import os
import shutil
import tempfile
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


class PrebuiltGraph(BuildHookInterface):  # type: ignore[type-arg]
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name != "wheel" or version == "editable":
            return
        spec = importlib.util.spec_from_file_location(
            "_ntx_graph_resources", os.path.join(self.root, "src", "ntx_graph", "resources.py"))
        assert spec is not None and spec.loader is not None
        resources = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(resources)
        self._folder = tempfile.mkdtemp(prefix="ntx-graph-prebuilt-")
        for path in resources.write_prebuilt(self._folder):
            build_data["force_include"][path] = f"ntx_graph/data/{resources.PREBUILT}/{os.path.basename(path)}"

    def finalize(self, version: str, build_data: dict[str, Any], artifact_path: str) -> None:
        folder = getattr(self, "_folder", None)
        if folder:
            shutil.rmtree(folder, ignore_errors=True)
