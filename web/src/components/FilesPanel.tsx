import { useEffect, useState } from "preact/hooks";
import { ApiError, type Api } from "../api/client";
import type { ListOf, WorkspaceFile } from "../api/types";
import { workspaceFileHref } from "../state/tool-views";

// The files at the conversation's /mnt/data (what python wrote), each a download. Listed when
// opened, and again when `version` changes (the chat bumps it after a turn that ran python).
export function FilesPanel({ api, workspace, version }: { api: Api; workspace: string; version: number }) {
  const [open, setOpen] = useState(false);
  const [files, setFiles] = useState<WorkspaceFile[] | null>(null);
  const [more, setMore] = useState(false);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    setFiles(null);
    setError(null);
  }, [workspace]);

  useEffect(() => {
    if (!open) return;
    let live = true;
    api.get<ListOf<WorkspaceFile> & { has_more?: boolean }>(`/v1/workspaces/${encodeURIComponent(workspace)}/files`).then(
      (list) => {
        if (!live) return;
        setFiles(list.data);
        setMore(list.has_more === true);
        setError(null);
      },
      (e: Error) => {
        if (!live) return;
        // A conversation whose python never ran has no workspace yet.
        if (e instanceof ApiError && e.status === 404) setFiles([]);
        else setError(`Could not list the files: ${e.message}`);
      },
    );
    return () => { live = false; };
  }, [api, workspace, open, version]);

  return (
    <div class="files-panel" data-testid="files-panel" data-open={open ? "true" : "false"}>
      <button type="button" data-testid="files-toggle" aria-expanded={open} onClick={() => setOpen(!open)}>
        Files{files && files.length ? ` (${files.length})` : ""}
      </button>
      {open && (
        <div class="files-list">
          {error && <p class="error" role="alert">{error}</p>}
          {!error && files === null && <p class="muted">Loading…</p>}
          {files?.length === 0 && <p class="muted">No files in /mnt/data yet.</p>}
          {files && files.length > 0 && (
            <ul>
              {files.map((f) => (
                <li key={f.path}>
                  <a data-testid="workspace-file" href={workspaceFileHref(workspace, f.path)} download={f.path.split("/").pop()}>
                    {f.path}
                  </a>{" "}
                  <span class="muted">{bytesText(f.bytes)}</span>
                </li>
              ))}
            </ul>
          )}
          {more && <p class="muted">More files than listed.</p>}
        </div>
      )}
    </div>
  );
}

function bytesText(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}
