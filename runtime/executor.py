"""The executor's public entry: `AgentRun(ir, inputs, context).execute()` runs an agent's
IR with DESIGN §3's semantics. It is made of:

- runtime/scheduler.py — the firing loop: queues, joins, routing, returns (`AgentRun`);
- runtime/plan.py — what a run derives from the IR once: edge tables, reachability,
  every expression compiled (`plan_of`);
- runtime/firing.py — one firing's inputs, arguments and call, by the kind of its node;
- runtime/role_calls.py — a role's call: prompt, structured output, repair, tool loop;
- runtime/constraints.py — `ensure` checked on the trace, `enforce` shields;
- runtime/context.py — what every run shares (`Context`); runtime/keys.py — firing keys;
- compiler/semantics.py — the rules themselves, shared with the explorer.
"""

from __future__ import annotations

from .context import Context
from .role_calls import MAX_REPAIRS
from .scheduler import AgentRun

__all__ = ["MAX_REPAIRS", "AgentRun", "Context"]
