// Labelled form controls: every input has a visible label, and a refused field says why next
// to it (linked with aria-describedby so screen readers read it too).

import i18next from "i18next";
import {
  type InputHTMLAttributes,
  type ReactNode,
  type TextareaHTMLAttributes,
  useId,
} from "react";
import { ApiError } from "../api/client";

interface FieldProps {
  label: string;
  hint?: string;
  error?: string | undefined;
}

/** What a form control needs to be tied to its label, hint and error. */
interface ControlProps {
  id: string;
  "aria-invalid": true | undefined;
  "aria-describedby": string | undefined;
}

/** A label, the control `render` draws, then its hint and its error. */
function Field({
  label,
  hint,
  error,
  render,
}: FieldProps & { render: (control: ControlProps) => ReactNode }) {
  const id = useId();
  const described = [hint && `${id}-hint`, error && `${id}-error`].filter(Boolean).join(" ");
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {render({
        id,
        "aria-invalid": error ? true : undefined,
        "aria-describedby": described || undefined,
      })}
      {hint && (
        <small id={`${id}-hint`} className="hint">
          {hint}
        </small>
      )}
      {error && (
        <small id={`${id}-error`} className="field-error">
          {error}
        </small>
      )}
    </div>
  );
}

export function TextField({
  label,
  hint,
  error,
  ...input
}: FieldProps & InputHTMLAttributes<HTMLInputElement>) {
  return (
    <Field
      label={label}
      hint={hint}
      error={error}
      render={(control) => <input {...control} {...input} />}
    />
  );
}

export function TextArea({
  label,
  hint,
  error,
  ...input
}: FieldProps & TextareaHTMLAttributes<HTMLTextAreaElement>) {
  return (
    <Field
      label={label}
      hint={hint}
      error={error}
      render={(control) => <textarea {...control} {...input} />}
    />
  );
}

export function SelectField({
  label,
  value,
  onChange,
  options,
  name,
  error,
}: {
  label: string;
  value: string;
  onChange: (value: string) => void;
  options: { value: string; label: string }[];
  name?: string;
  error?: string | undefined;
}) {
  return (
    <Field
      label={label}
      error={error}
      render={(control) => (
        <select {...control} name={name} value={value} onChange={(e) => onChange(e.target.value)}>
          {options.map((o) => (
            <option key={o.value} value={o.value}>
              {o.label}
            </option>
          ))}
        </select>
      )}
    />
  );
}

/** The per-field messages of a refused request. */
/** Each refused field's problem in the person's language (the server's English message
 * where the code is one this client does not know). */
export function fieldErrors(error: unknown): Record<string, string> {
  if (!(error instanceof ApiError)) return {};
  const worded: Record<string, string> = {};
  for (const [field, message] of Object.entries(error.fields)) {
    const problem = error.fieldCodes[field];
    worded[field] = problem
      ? i18next.t(`field.${problem.code}`, { ...problem.params, defaultValue: message })
      : message;
  }
  return worded;
}

/** "a, b ,c" → ["a", "b", "c"]. */
export function splitList(value: string): string[] {
  return value
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
}
