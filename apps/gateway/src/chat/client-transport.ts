// What the chat layer needs of a client's connection (a WebSocket today): send a text frame,
// close. The transport owns its own buffers; the chat layer only learns when one is too full.

export interface ClientTransport {
  /**
   * Sends one text frame. False when the client reads too slowly: the transport holds more
   * than it may for it (the connection then closes it as a slow consumer).
   */
  send(text: string): boolean;
  /** Closes the connection with a close code (CLOSE_CODES) and a reason. */
  close(code: number, reason: string): void;
}
