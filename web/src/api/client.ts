// The one place that talks HTTP to muse serve. Same-origin cookies carry the session; every
// request that changes something sends the session's CSRF token. The API key itself is sent
// once, to POST /v1/session, and never kept.

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code: string | null,
  ) {
    super(message);
  }
}

// The server's wire error `{"error": {"message", "type", "code"}}`, or the status line.
async function errorOf(res: Response): Promise<ApiError> {
  let message = `${res.status} ${res.statusText}`;
  let code: string | null = null;
  try {
    const body = (await res.json()) as { error?: { message?: string; code?: string } };
    if (body.error?.message) message = body.error.message;
    if (body.error?.code) code = body.error.code;
  } catch {
    // not JSON: the status line says enough
  }
  return new ApiError(res.status, message, code);
}

export class Api {
  csrf: string | null = null;

  async request(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<Response> {
    const headers: Record<string, string> = {};
    if (body !== undefined) headers["content-type"] = "application/json";
    if (method !== "GET" && this.csrf) headers["x-muse-csrf"] = this.csrf;
    const init: RequestInit = { method, headers, credentials: "same-origin" };
    if (body !== undefined) init.body = JSON.stringify(body);
    if (signal) init.signal = signal;
    const res = await fetch(path, init);
    if (!res.ok) throw await errorOf(res);
    return res;
  }

  async json<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await this.request(method, path, body);
    return (await res.json()) as T;
  }

  get<T>(path: string): Promise<T> {
    return this.json<T>("GET", path);
  }
  post<T>(path: string, body: unknown = {}): Promise<T> {
    return this.json<T>("POST", path, body);
  }
  del<T>(path: string): Promise<T> {
    return this.json<T>("DELETE", path);
  }

  async upload<T>(path: string, form: FormData): Promise<T> {
    const headers: Record<string, string> = {};
    if (this.csrf) headers["x-muse-csrf"] = this.csrf;
    const res = await fetch(path, { method: "POST", body: form, headers, credentials: "same-origin" });
    if (!res.ok) throw await errorOf(res);
    return (await res.json()) as T;
  }
}
