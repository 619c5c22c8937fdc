// flight_status: a made-up but stable timetable. Every field is derived from a hash of the flight
// number, so the same flight reads the same on every replica, in every run and in every test.
import type { McpServer, RegisteredTool } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';

export const FLIGHT_STATUSES = ['on_time', 'delayed', 'boarding', 'cancelled'] as const;

export type FlightState = (typeof FLIGHT_STATUSES)[number];

export const FlightStatusSchema = z.object({
  flight: z.string(),
  status: z.enum(FLIGHT_STATUSES),
  /** Minutes behind schedule; 0 unless `delayed`. */
  delayMinutes: z.number().int(),
  departureAirport: z.string(),
  departureCity: z.string(),
  /** Scheduled, local time at the airport, HH:MM (as are the other times). */
  departureTime: z.string(),
  gate: z.string(),
  arrivalAirport: z.string(),
  arrivalCity: z.string(),
  arrivalTime: z.string(),
  /** Days between the local dates of departure and arrival: 1 the next day, -1 the day before (eastwards over the date line). */
  arrivalDayOffset: z.number().int(),
});

export type FlightStatus = z.infer<typeof FlightStatusSchema>;

/** Two letters or digits (the airline) and 1-4 digits, e.g. XY123; any case. */
export const FLIGHT_NUMBER = /^[A-Za-z0-9]{2}[0-9]{1,4}$/;

interface Airport {
  code: string;
  city: string;
  lat: number;
  lon: number;
  /** Hours from UTC, standard time: local times are only for reading. */
  utcOffset: number;
}

const AIRPORTS: readonly Airport[] = [
  { code: 'LHR', city: 'London', lat: 51.47, lon: -0.45, utcOffset: 0 },
  { code: 'JFK', city: 'New York', lat: 40.64, lon: -73.78, utcOffset: -5 },
  { code: 'CDG', city: 'Paris', lat: 49.01, lon: 2.55, utcOffset: 1 },
  { code: 'FRA', city: 'Frankfurt', lat: 50.03, lon: 8.57, utcOffset: 1 },
  { code: 'AMS', city: 'Amsterdam', lat: 52.31, lon: 4.76, utcOffset: 1 },
  { code: 'MAD', city: 'Madrid', lat: 40.47, lon: -3.56, utcOffset: 1 },
  { code: 'DXB', city: 'Dubai', lat: 25.25, lon: 55.36, utcOffset: 4 },
  { code: 'SIN', city: 'Singapore', lat: 1.36, lon: 103.99, utcOffset: 8 },
  { code: 'HND', city: 'Tokyo', lat: 35.55, lon: 139.78, utcOffset: 9 },
  { code: 'SFO', city: 'San Francisco', lat: 37.62, lon: -122.38, utcOffset: -8 },
  { code: 'SYD', city: 'Sydney', lat: -33.94, lon: 151.18, utcOffset: 10 },
  { code: 'GRU', city: 'São Paulo', lat: -23.43, lon: -46.47, utcOffset: -3 },
];

/** Gate to gate: great-circle distance at 800 km/h plus 40 minutes on the ground, to 5 minutes. */
function blockMinutes(from: Airport, to: Airport): number {
  const rad = Math.PI / 180;
  const a =
    Math.sin(((to.lat - from.lat) * rad) / 2) ** 2 +
    Math.cos(from.lat * rad) * Math.cos(to.lat * rad) * Math.sin(((to.lon - from.lon) * rad) / 2) ** 2;
  const km = 2 * 6371 * Math.asin(Math.sqrt(a));
  return 5 * Math.round((40 + (km / 800) * 60) / 5);
}

/** Out of 20: most flights are on time, as in life. */
const STATUS_WEIGHTS: readonly [FlightState, number][] = [
  ['on_time', 11],
  ['delayed', 5],
  ['boarding', 3],
  ['cancelled', 1],
];

/** FNV-1a, 32 bits: small, stable across Node versions, and spreads short strings well enough. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

/** Independent draws from one flight number: each field hashes the number with its own name. */
function draw(flight: string, field: string, range: number): number {
  return fnv1a(`${field}:${flight}`) % range;
}

function clock(minutesOfDay: number): string {
  const m = ((minutesOfDay % 1440) + 1440) % 1440;
  return `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
}

/** The contract's example flight reads on time, so demos and scripted conversations stay the same. */
const PINNED_STATUS: Readonly<Record<string, FlightState>> = { XY123: 'on_time' };

function pickStatus(flight: string): FlightState {
  const pinned = PINNED_STATUS[flight];
  if (pinned !== undefined) return pinned;
  let roll = draw(flight, 'status', 20);
  for (const [state, weight] of STATUS_WEIGHTS) {
    if (roll < weight) return state;
    roll -= weight;
  }
  return 'on_time';
}

/** The status of a flight number (already checked against FLIGHT_NUMBER); case does not matter. */
export function flightStatus(flightNumber: string): FlightStatus {
  const flight = flightNumber.trim().toUpperCase();
  const fromIndex = draw(flight, 'from', AIRPORTS.length);
  // Any airport but the departure one.
  const from = AIRPORTS[fromIndex]!;
  const to = AIRPORTS[(fromIndex + 1 + draw(flight, 'to', AIRPORTS.length - 1)) % AIRPORTS.length]!;
  const departs = 5 * draw(flight, 'departs', 288);
  const arrives = departs + blockMinutes(from, to) + 60 * (to.utcOffset - from.utcOffset);
  const status = pickStatus(flight);
  return {
    flight,
    status,
    delayMinutes: status === 'delayed' ? 10 + 5 * draw(flight, 'delay', 34) : 0,
    departureAirport: from.code,
    departureCity: from.city,
    departureTime: clock(departs),
    gate: `${'ABCDEF'[draw(flight, 'terminal', 6)]}${1 + draw(flight, 'gate', 40)}`,
    arrivalAirport: to.code,
    arrivalCity: to.city,
    arrivalTime: clock(arrives),
    arrivalDayOffset: Math.floor(arrives / 1440),
  };
}

/** One sentence a model can quote. */
export function describeFlight(s: FlightStatus): string {
  const day = s.arrivalDayOffset === 0 ? '' : s.arrivalDayOffset === 1 ? ' the next day' : s.arrivalDayOffset === -1 ? ' the day before (local time)' : ` ${s.arrivalDayOffset} days later`;
  const route = `from ${s.departureCity} (${s.departureAirport}) to ${s.arrivalCity} (${s.arrivalAirport})`;
  switch (s.status) {
    case 'on_time':
      return `Flight ${s.flight} ${route} is on time: it departs at ${s.departureTime} from gate ${s.gate} and arrives at ${s.arrivalTime}${day}.`;
    case 'delayed':
      return `Flight ${s.flight} ${route} is delayed by ${s.delayMinutes} min: scheduled at ${s.departureTime} from gate ${s.gate}, now leaving at ${clock(toMinutes(s.departureTime) + s.delayMinutes)}.`;
    case 'boarding':
      return `Flight ${s.flight} ${route} is boarding at gate ${s.gate}; it departs at ${s.departureTime} and arrives at ${s.arrivalTime}${day}.`;
    case 'cancelled':
      return `Flight ${s.flight} ${route}, scheduled at ${s.departureTime}, is cancelled.`;
  }
}

function toMinutes(hhmm: string): number {
  const [h, m] = hhmm.split(':').map(Number);
  return (h ?? 0) * 60 + (m ?? 0);
}

export function registerFlightStatus(server: McpServer): RegisteredTool {
  return server.registerTool(
    'flight_status',
    {
      title: 'Flight status',
      description:
        'Current status of one flight: on time, delayed (by how many minutes), boarding or cancelled, with departure airport, time and gate and arrival airport and time. Use it when the user names a flight number such as XY123.',
      inputSchema: {
        flight: z.string().trim().regex(FLIGHT_NUMBER, 'a flight number: two letters or digits, then 1-4 digits, e.g. XY123').describe('The flight number, e.g. XY123'),
      },
      outputSchema: FlightStatusSchema.shape,
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    ({ flight }) => {
      const status = flightStatus(flight);
      return { content: [{ type: 'text', text: describeFlight(status) }], structuredContent: status };
    },
  );
}
