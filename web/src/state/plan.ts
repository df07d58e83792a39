import type { AgentLane, Turn } from "./turn";

// Orchestrate's passes (src/reason/orchestrate.cpp): the planner is agent 0, sub-agent i
// (sub-task i of the plan) is agent i, the merger comes last. The stream's agent events carry
// only the index; the final chunk names each pass's role and the plan's titles.

export interface PlanStep {
  title: string;
  agent: number; // the sub-agent's index
  state: string; // its lane's or report's state
}

export type OrchestratePhase = "planning" | "working" | "done";

export function orchestratePhase(turn: Pick<Turn, "plan" | "lanes" | "status">): OrchestratePhase {
  if (turn.plan.length || turn.status !== "streaming") return "done";
  const planner = turn.lanes.find((l) => l.index === 0);
  return planner?.finished ? "working" : "planning";
}

// What a lane shows: its state from the stream, or from the final report once it came.
export function laneState(l: AgentLane | undefined): string {
  if (!l) return "waiting";
  if (l.skipped) return "skipped";
  return l.stoppedEarly ? "stopped early" : l.finished ? "finished" : l.reasoning ? "reasoning" : "answering";
}

export function planSteps(turn: Pick<Turn, "plan" | "lanes" | "agents">): PlanStep[] {
  return turn.plan.map((title, i) => {
    const agent = i + 1;
    const report = turn.agents.find((a) => a.index === agent);
    const state = report?.status ?? laneState(turn.lanes.find((l) => l.index === agent));
    return { title, agent, state };
  });
}

// A lane's name: its role once the final report gave it, else what its index says for sure.
export function laneLabel(lane: Pick<AgentLane, "index" | "role">, mode: string | null): string {
  const role = lane.role;
  if (role === "planner") return "Planner";
  if (role === "merger") return "Merger";
  if (role === "synthesis") return "Synthesis";
  if (role?.startsWith("sub-agent: ")) return `Sub-agent ${lane.index}: ${role.slice("sub-agent: ".length)}`;
  if (mode === "orchestrate") return lane.index === 0 ? "Planner" : `Pass ${lane.index + 1}`;
  return `Agent ${lane.index + 1}`;
}
