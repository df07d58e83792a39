import { laneLabel, laneState, orchestratePhase, planSteps } from "../state/plan";
import type { AgentLane, Turn, VoteRow } from "../state/turn";

// One lane per agent (contemplate) or pass (orchestrate: planner, sub-agents, merger).
export function AgentLanes({ lanes, total, mode = null }: { lanes: AgentLane[]; total: number; mode?: string | null }) {
  const max = Math.max(1, ...lanes.map((l) => l.tokens));
  const shown: AgentLane[] = [];
  for (let i = 0; i < Math.max(total, lanes.length); i++) {
    shown.push(lanes.find((l) => l.index === i) ?? { index: i, tokens: 0, reasoning: true, finished: false, stoppedEarly: false });
  }
  return (
    <div class="lanes" aria-label="Agents">
      {shown.map((l) => {
        const state = laneState(l);
        return (
          <div class={`lane ${l.reasoning && !l.finished ? "dim" : ""}`} data-testid="agent-lane" data-state={state} key={l.index}>
            <span class="lane-name" title={l.role ?? undefined}>{laneLabel(l, mode)}</span>
            <span class="lane-bar"><span style={{ width: `${(100 * l.tokens) / max}%` }} /></span>
            <span class="lane-tokens">{l.tokens} tok</span>
            <span class="lane-state">{state}</span>
          </div>
        );
      })}
    </div>
  );
}

export function VoteTable({ rows, agreement }: { rows: VoteRow[]; agreement: number | null }) {
  return (
    <table class="vote" data-testid="vote-table">
      <caption>Vote{agreement !== null ? ` · agreement ${Math.round(agreement * 100)}%` : ""}</caption>
      <thead>
        <tr><th>Answer</th><th>Agents</th><th title="DeepConf: the negative mean log-probability of the likeliest tokens; higher is surer">Confidence</th></tr>
      </thead>
      <tbody>
        {rows.map((r) => (
          <tr key={r.answer}>
            <td class="vote-answer">{r.answer || "(none)"}</td>
            <td>{r.agents.map((a) => a + 1).join(", ")}</td>
            <td>{r.confidence !== null ? r.confidence.toFixed(2) : "–"}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

// Orchestrate's plan: "planning" until the planner is done, then its sub-tasks once the final
// chunk names them, each with its sub-agent's state.
export function Plan({ turn }: { turn: Turn }) {
  const phase = orchestratePhase(turn);
  const steps = planSteps(turn);
  return (
    <div class="plan" data-testid="plan" data-phase={phase}>
      <div class="plan-head">
        Plan{steps.length ? ` · ${steps.length} sub-task${steps.length === 1 ? "" : "s"}` : ""}
        {phase === "planning" && <span class="muted"> · planning…</span>}
        {phase === "working" && <span class="muted"> · sub-agents working…</span>}
      </div>
      {steps.length > 0 && (
        <ol>
          {steps.map((s) => (
            <li key={s.agent} data-testid="plan-step" data-state={s.state}>
              <span class="plan-title">{s.title}</span> <span class="muted">· {s.state}</span>
            </li>
          ))}
        </ol>
      )}
    </div>
  );
}
