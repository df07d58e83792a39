import type { AgentLane, VoteRow } from "../state/turn";

export function AgentLanes({ lanes, total }: { lanes: AgentLane[]; total: number }) {
  const max = Math.max(1, ...lanes.map((l) => l.tokens));
  const shown: AgentLane[] = [];
  for (let i = 0; i < Math.max(total, lanes.length); i++) {
    shown.push(lanes.find((l) => l.index === i) ?? { index: i, tokens: 0, reasoning: true, finished: false, stoppedEarly: false });
  }
  return (
    <div class="lanes" aria-label="Agents">
      {shown.map((l) => {
        const state = l.stoppedEarly ? "stopped early" : l.finished ? "finished" : l.reasoning ? "reasoning" : "answering";
        return (
          <div class={`lane ${l.reasoning && !l.finished ? "dim" : ""}`} data-testid="agent-lane" data-state={state} key={l.index}>
            <span class="lane-name">Agent {l.index + 1}</span>
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
