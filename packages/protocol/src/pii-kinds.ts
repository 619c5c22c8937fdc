// The kinds of personal data the gateway replaces by placeholders (`[EMAIL]`, …) before a message
// is stored or sent to the model; an `ack` counts them per kind.
export const PII_KINDS = ['EMAIL', 'PHONE', 'CARD', 'SSN', 'IBAN', 'NATIONAL_ID'] as const;
export type PiiKind = (typeof PII_KINDS)[number];
