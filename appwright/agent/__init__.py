"""The agent harness: system prompt, tools, tolerant parsing, the loop, trajectory records.

    from appwright.agent import Budget, run_agent
    traj = run_agent("a private notes app", "out/notes", backend, protocol="files")

Modules, one job each: `prompt.py` (system prompt), `parse.py` (model text -> calls and
files), `tools.py` (the confined workspace and its tools), `check_app.py` (serve the bundle,
open it in Chromium, report errors), `config.py` (the harness's config record and budget),
`loop.py` (the loop), `guided.py` (answers written file by file under a grammar or schema),
`answer.py` (fixes to an answer's text before it is written), `trajectory.py` (the JSONL record).
"""

from appwright.agent.check_app import Checker, CheckReport, check_app
from appwright.agent.config import Budget, HarnessConfig
from appwright.agent.loop import Event, run_agent
from appwright.agent.parse import FileBlock, ParsedReply, ToolCall, parse_reply
from appwright.agent.prompt import system_prompt
from appwright.agent.tools import TOOL_SPECS, ToolResult, Toolbox
from appwright.agent.trajectory import Trajectory, append_jsonl, read_jsonl

__all__ = [
    "Budget", "CheckReport", "HarnessConfig", "Checker", "Event", "FileBlock", "ParsedReply", "TOOL_SPECS", "ToolCall",
    "ToolResult", "Trajectory", "Toolbox", "append_jsonl", "check_app", "parse_reply", "read_jsonl",
    "run_agent", "system_prompt",
]
