// The one way the client talks to `/api/v1`: a typed fetch over the paths generated from the
// server's OpenAPI document (`npm run gen:api`), and the one error type every screen shows.
import createClient from "openapi-fetch";
import type { components, paths } from "./schema";

export type Schemas = components["schemas"];
export type Me = Schemas["Me"];
export type ProjectRole = Schemas["ProjectRole"];
export type ItemKind = Schemas["ItemKind"];
export type ItemView = Schemas["ItemView"];
export type Visibility = Schemas["Visibility"];
export type OpenTo = Schemas["OpenTo"];

export const api = createClient<paths>({ baseUrl: "/api/v1", credentials: "same-origin" });

/** What is wrong with one field: a code the client words, and the numbers it quotes. */
export interface Problem {
  code: string;
  params?: Record<string, number>;
}

/** A refusal or failure from the server: its stable code and numbers, and for refused input a
 * message (English) and a code per field. The client words it in the person's language
 * (`ui/Status.tsx`, `ui/Field.tsx`); the English message is the fallback. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly fields: Record<string, string> = {},
    readonly params: Record<string, number> = {},
    readonly fieldCodes: Record<string, Problem> = {},
  ) {
    super(message);
    this.name = "ApiError";
  }
}

interface FetchResult<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

function isErrorBody(body: unknown): body is Schemas["ErrorBody"] {
  return (
    typeof body === "object" &&
    body !== null &&
    "error" in body &&
    typeof (body as { error: unknown }).error === "object"
  );
}

/** The body of a successful call, or an [`ApiError`]. */
export async function call<T>(request: Promise<FetchResult<T>>): Promise<T> {
  let result: FetchResult<T>;
  try {
    result = await request;
  } catch {
    throw new ApiError(0, "network", "network");
  }
  const { data, error, response } = result;
  if (!response.ok) {
    if (isErrorBody(error)) {
      const { code, message, fields, params, field_codes } = error.error;
      throw new ApiError(
        response.status,
        code,
        message,
        (fields ?? {}) as Record<string, string>,
        (params ?? {}) as Record<string, number>,
        (field_codes ?? {}) as Record<string, Problem>,
      );
    }
    throw new ApiError(response.status, "http", response.statusText);
  }
  return data as T;
}

/** Uploads an image into a project; resolves to the URL it is served at. A file over
 * `maxBytes` (the server's limit, from `/session`) is refused here, before it is sent, with the
 * error the server would answer. */
export async function uploadAsset(
  projectId: string,
  file: Blob,
  maxBytes?: number,
): Promise<string> {
  refuseOverLimit(file, maxBytes);
  const created = await call(
    api.POST("/assets", {
      // A document (an annex) is downloaded under its name.
      params: {
        query: { project_id: projectId, name: file instanceof File ? file.name : undefined },
      },
      body: file as unknown as string,
      bodySerializer: (body) => body as unknown as BodyInit,
      headers: { "content-type": file.type || "application/octet-stream" },
    }),
  );
  return created.url;
}

/** Refuses a file over the server's upload limit before sending it (the server refuses it too). */
function refuseOverLimit(file: Blob, maxBytes?: number): void {
  if (maxBytes !== undefined && file.size > maxBytes) {
    throw new ApiError(
      413,
      "too_large",
      `the file is larger than the limit of ${maxBytes} bytes`,
      {},
      { limit: maxBytes },
    );
  }
}

/** Imports a Markdown or DOCX file as a new document of a project, titled after the file. */
export async function importDocument(
  projectId: string,
  file: File,
  maxBytes?: number,
): Promise<{ id: string; doc_id: string }> {
  refuseOverLimit(file, maxBytes);
  const markdown = /\.(md|markdown)$/i.test(file.name);
  const title = file.name.replace(/\.[^.]+$/, "").trim() || file.name;
  return call(
    api.POST("/projects/{id}/import", {
      params: { path: { id: projectId }, query: { title, filename: file.name } },
      body: file as unknown as string,
      bodySerializer: (body) => body as unknown as BodyInit,
      headers: {
        "content-type": markdown ? "text/markdown" : file.type || "application/octet-stream",
      },
    }),
  );
}

/** Where an item is exported to, in a format (and the caller's language). */
export function exportUrl(itemId: string, format: string, lang: string, version?: string): string {
  const query = new URLSearchParams({ format, lang });
  if (version) query.set("version", version);
  return `/api/v1/items/${encodeURIComponent(itemId)}/export?${query}`;
}
