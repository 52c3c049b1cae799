// The kinds of notification and the ways they are delivered, as the API names them.
import type { Schemas } from "../api/client";

export type NotificationKind = Schemas["NotificationKind"];
export type NotifyChannel = Schemas["NotifyChannel"];
export type NotificationView = Schemas["NotificationView"];

export const KINDS: readonly NotificationKind[] = [
  "invitation",
  "mention",
  "reply",
  "join_request",
  "session",
];
export const CHANNELS: readonly NotifyChannel[] = ["both", "app", "email", "none"];
