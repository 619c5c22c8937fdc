// The knowledge base policy_search reads: eight policy documents of a fictional airline.
// Each paragraph stands on its own, since a paragraph is what a search returns.

export interface PolicyDocument {
  id: string;
  title: string;
  url: string;
  /** Words a customer uses for the topic that the text may not ("money back" for a refund). */
  keywords: string;
  paragraphs: readonly string[];
}

const url = (id: string): string => `https://example.com/policies/${id}`;

export const POLICIES: readonly PolicyDocument[] = [
  {
    id: 'rebooking',
    title: 'Rebooking policy',
    url: url('rebooking'),
    keywords: 'rebook change date time switch move another flight',
    paragraphs: [
      'You can rebook a flight to a new date or time up to 2 hours before departure in Manage booking, in the app or at a ticket desk. Rebooking is free on Flex and Business fares; on Light and Standard fares a change fee of 50 EUR per passenger and direction applies, plus any difference in fare.',
      'When we cancel your flight or delay it by more than 3 hours, we rebook you on the next available flight at no cost, including flights of partner airlines. You can also choose another date within 14 days of the original departure free of charge, or ask for a refund instead.',
      'A missed connection on one booking is rebooked automatically on the next flight to your destination. Check-in and seat choices are kept where the new flight allows; paid extras such as seats or meals move with the rebooked flight or are refunded.',
    ],
  },
  {
    id: 'refunds',
    title: 'Refund policy',
    url: url('refunds'),
    keywords: 'refund money back reimburse repay',
    paragraphs: [
      'Flex and Business fares are fully refundable until departure. Light and Standard fares are non-refundable, but airport taxes and fees are refunded on request when you do not fly.',
      'If we cancel your flight or change its schedule by more than 3 hours, you are entitled to a full refund of the ticket, including the unused parts of a return journey, whatever the fare.',
      'Refunds go back to the original form of payment within 7 days for cards and within 20 days for other methods. A refund can also be taken as a travel voucher worth 110% of the ticket, valid for 12 months.',
    ],
  },
  {
    id: 'cancellations',
    title: 'Cancellation policy',
    url: url('cancellations'),
    keywords: 'cancel cancellation called off',
    paragraphs: [
      'You can cancel a booking within 24 hours of buying it for a full refund, as long as departure is at least 7 days away. After that, what you get back depends on your fare: see the refund policy.',
      'When we cancel a flight, we tell you by e-mail and text message as soon as we know, and offer rebooking on the next available flight, a later date of your choice or a full refund.',
      'If the cancellation reaches you less than 14 days before departure and was within our control, you may also be owed compensation under EU Regulation 261/2004; see the delay and compensation policy.',
    ],
  },
  {
    id: 'baggage',
    title: 'Baggage policy',
    url: url('baggage'),
    keywords: 'bag bags luggage suitcase suitcases cabin hold',
    paragraphs: [
      'Every passenger may bring one cabin bag of up to 8 kg and 55 x 40 x 23 cm, plus one personal item such as a handbag or laptop bag that fits under the seat in front.',
      'Checked baggage allowance depends on your fare: Light includes none, Standard one bag of 23 kg, Flex and Business two bags of 23 kg (32 kg in Business). Extra bags cost 40 EUR online and 70 EUR at the airport.',
      'Report delayed, damaged or lost baggage at the baggage desk before leaving the arrival hall, or within 7 days online (21 days for delayed bags). We reimburse reasonable essential purchases while your bag is delayed, with receipts.',
    ],
  },
  {
    id: 'delays-compensation',
    title: 'Delays and compensation',
    url: url('delays-compensation'),
    keywords: 'delay delayed late compensation claim hotel meal',
    paragraphs: [
      'When your flight is delayed by 2 hours or more, we provide meals and refreshments in proportion to the waiting time, and a hotel and transport to it when the delay runs overnight.',
      'Under EU Regulation 261/2004 you may be owed compensation when you arrive 3 hours or more late: 250 EUR for flights up to 1,500 km, 400 EUR up to 3,500 km and 600 EUR beyond. No compensation is due when the delay was caused by extraordinary circumstances such as severe weather or air traffic control restrictions.',
      'Claim compensation online with your booking reference; we answer within 30 days. A delay of 5 hours or more also lets you give up the journey and get a full refund.',
    ],
  },
  {
    id: 'name-changes',
    title: 'Name changes and corrections',
    url: url('name-changes'),
    keywords: 'name spelling typo correct transfer',
    paragraphs: [
      'Spelling mistakes of up to three characters in a passenger name can be corrected free of charge until 24 hours before departure, in Manage booking or through customer service.',
      'Transferring a ticket to another person is possible on Flex and Business fares only, for a fee of 60 EUR, and no later than 3 hours before departure. On other fares the ticket is personal and cannot be transferred.',
      'After a legal name change, for example after marriage, send us a copy of the document showing both names and we update the booking at no cost. The name on the booking must match the passport or identity card you travel with.',
    ],
  },
  {
    id: 'pets',
    title: 'Travelling with pets',
    url: url('pets'),
    keywords: 'pet dog cat animal',
    paragraphs: [
      'Cats and dogs up to 8 kg including their carrier may travel in the cabin in a soft bag of up to 45 x 35 x 25 cm that stays under the seat. Book the pet at least 48 hours before departure; each flight takes at most two pets in the cabin.',
      'Larger pets travel in the heated and pressurised hold, in an IATA-approved crate, for 75 EUR to 150 EUR per flight depending on distance. Snub-nosed breeds are not carried in the hold for their safety.',
      'Assistance dogs travel in the cabin free of charge on every route. Pets need a valid pet passport or health certificate and the vaccinations the destination country requires.',
    ],
  },
  {
    id: 'special-assistance',
    title: 'Special assistance',
    url: url('special-assistance'),
    keywords: 'wheelchair disability disabled mobility blind deaf child children minor pregnant pregnancy',
    paragraphs: [
      'Passengers with reduced mobility, visual or hearing impairments, or hidden disabilities can ask for free assistance from check-in to the aircraft seat and from the aircraft to the arrival hall. Ask at least 48 hours before departure so we can arrange it.',
      'We carry two mobility aids, such as wheelchairs or walking frames, free of charge in addition to your baggage allowance. For battery-powered wheelchairs, tell us the battery type when you book.',
      'Unaccompanied minors aged 5 to 11 travel with our escort service for 60 EUR per flight; it is optional from 12 to 15. Pregnant passengers may fly until the end of week 36, with a doctor\'s letter after week 28.',
    ],
  },
];
