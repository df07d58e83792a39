// The shapes of muse serve's answers that the app reads (docs/api.md). Every field the server
// may not send yet is optional, and the app works without it.

export interface Session {
  object: "session";
  user: string;
  expires_at?: number;
  csrf_token?: string;
  auth?: "none";
}

export interface Capabilities {
  vision: boolean;
  audio: boolean;
  reasoning: boolean;
  max_pixels: number;
  max_agents: number;
  tools: string[];
  context: number;
}

export interface Model {
  id: string;
  muse?: Partial<Capabilities>;
}

export type ContentPart =
  | { type: "text"; text: string }
  | { type: "image_url"; image_url: { url: string } }
  | { type: "input_audio"; input_audio: { data: string; format: string } };

export interface StoredMessage {
  id: string;
  role: "system" | "user" | "assistant" | "tool" | "developer";
  content: string | ContentPart[] | null;
  reasoning_content?: string;
  tool_calls?: { id: string; function: { name: string; arguments: string } }[];
  parent_id?: string | null;
  created_at?: number;
  muse?: { tool_calls?: StoredToolCall[] };
}

// A server-side call the agent ran for a stored answer (docs/api.md, GET /v1/conversations/{id}):
// as the reply's muse.tool_calls, the images without their data.
export interface StoredToolCall {
  id: string;
  name: string;
  arguments?: string;
  outcome?: string;
  output?: string;
  images?: { name: string; mime_type: string; data?: string }[];
  files?: unknown[];
  detail?: ToolDetail;
  duration_ms?: number;
}

// A call's `detail`: each tool's own facts (src/agent/tools/*: the artifact, grounding items, web
// results, file_search hits, python's exit code...). Read by state/ code that checks every field.
export type ToolDetail = { artifact?: ArtifactRef } & Record<string, unknown>;

// A file a python call created or changed in /mnt/data (muse.tool_calls[].files).
export interface ToolFile {
  path: string;
  bytes?: number;
}

// GET /v1/workspaces/{id}/files: the files at a conversation's /mnt/data.
export interface WorkspaceFile {
  path: string;
  bytes: number;
  modified_at?: number;
}

export interface ConversationSummary {
  id: string;
  title: string | null;
  created_at: number;
  updated_at?: number;
  snippet?: string;
}

export interface Conversation extends ConversationSummary {
  messages: StoredMessage[];
  current_id?: string | null;
}

export interface AgentReport {
  index: number;
  role?: string;
  status?: string;
  reasoning_tokens?: number;
  answer_tokens?: number;
  mean_confidence?: number;
  lowest_confidence?: number;
  answer?: string;
  stopped_early?: boolean;
}

export interface ToolImage {
  name: string;
  mime_type: string;
  data?: string; // absent on a stored call: the store keeps only the name and type
}

export interface ArtifactRef {
  id: string;
  version: number;
  title?: string;
  type?: string;
}

export interface MuseChunk {
  event?: "agent" | "step" | "tool_call.started" | "tool_call.finished";
  agent?: number;
  tokens?: number;
  reasoning?: boolean;
  finished?: boolean;
  step?: number;
  id?: string;
  name?: string;
  arguments?: string;
  outcome?: string;
  output?: string;
  images?: ToolImage[];
  files?: unknown[];
  detail?: ToolDetail;
  duration_ms?: number;
  mode?: string;
  agents?: AgentReport[];
  agreement?: number;
  plan?: string[]; // orchestrate: the sub-tasks' titles, in the final chunk (src/server/chat-run.cpp)
  conversation?: { id: string; message_ids: string[] };
}

export interface ChatChunk {
  choices?: {
    index: number;
    delta?: { role?: string; content?: string | null; reasoning_content?: string | null; tool_calls?: unknown[] };
    finish_reason?: string | null;
  }[];
  usage?: {
    prompt_tokens: number;
    completion_tokens: number;
    completion_tokens_details?: { reasoning_tokens?: number };
  };
  muse?: MuseChunk;
}

export interface ListOf<T> {
  object: "list";
  data: T[];
}

export interface MemoryItem {
  id: string;
  text: string;
  created_at?: number;
}

export interface FileItem {
  id: string;
  filename: string;
  bytes: number;
  created_at: number;
  purpose?: string;
}

export interface KeyItem {
  id: string;
  name?: string | null;
  created_at?: number;
  last_used_at?: number | null;
  key?: string;
}
