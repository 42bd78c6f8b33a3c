/**
 * Street addresses, best effort: a house number with capitalized words and a street suffix
 * ("90 Whitchurch Road", "2437 Main St"), a street word with a house number in the
 * continental forms ("Friedhofstrasse 33", "Rue de Virton 38", "Via delle Coste 41",
 * "ul. Północna 73"), and unit lines ("Apt. 322", "Suite 282", "PSC 3294, Box 9168"),
 * which only count next to an address or in address context. Address context words
 * ("address", "lives on", "ship to") raise the score.
 */
import { contextWords, hasContext } from '../entity-spans.js';
import type { EntitySpan } from '../types.js';
import { boosted, type Recognizer } from './recognizer.js';

const SUFFIX = 'Street|St|Road|Rd|Avenue|Ave|Av|Lane|Ln|Drive|Dr|Boulevard|Blvd|Way|Court|Ct|Place|Pl|Terrace|Ter|Square|Sq|Highway|Hwy|Parkway|Pkwy|Circle|Cir|Crescent|Cres|Close|Row|Alley|Trail|Walk|Gardens|Grove|Hill|Park|Mews|Wharf|Quay|Parade|Esplanade|Broadway|Plaza|Loop|Pike|Turnpike|Expressway|Crossing|Heights|Junction|Route';
// Continental street words that end the street name: Friedhofstrasse, Kungsgatan, Nørrevej, Laukaantie, Koskikatu, ...
const CONT_SUFFIX = '(?:stra(?:ss|ß)e|str\\.|gasse|weg|allee|platz|damm|ufer|gatan|gata|vägen|väg|vej|gade|veien|vegen|vei|tie|katu|kuja|polku|laan|straat|plein|gracht|dreef|utca|út|tér|ulica|aleja|cesta|iela|gatve|tänav|street)';
const PREFIX = 'Rue|Via|Viale|Vicolo|Piazza|Corso|Calle|Carrer|Avenida|Avda\\.|Av\\.|Rua|Travessa|Praça|Paseo|Plaza|Chemin|Place|Boulevard|Bd|Allée|Impasse|Quai|ul\\.|ulica|al\\.|Aleja|Plac|Strada|Stradă|Bulevardul|Odos|Leoforos';
const CAP = "[\\p{Lu}\\d][\\p{L}\\d'’.\\-]*";
const UNIT = "(?:,?[ \\t]+(?:Apt\\.?|Apartment|Suite|Ste\\.?|Unit|Flat|Fl\\.?|Floor|#)[ \\t]*\\d+[A-Za-z]?)?";

const STREET_RES = [
    // 90 Whitchurch Road, 2437 Main St Suite 442, 9448 175 Iroon Polytechniou Avenue
    `(?<![\\p{L}\\d])\\d{1,6}[A-Za-z]?(?:[ \\t]+${CAP}){1,5}[ \\t]+(?:${SUFFIX})\\.?(?![\\p{L}])${UNIT}`,
    // Rue de Virton 38, Via delle Coste 41, ul. Północna 73, Pavlou Drandaki 214 is not covered
    `(?<![\\p{L}\\d])(?:\\d{1,6}[ \\t]+)?(?:${PREFIX})(?:[ \\t]+[\\p{L}'’\\-]+){1,4}[ \\t]+\\d{1,5}[A-Za-z]?(?![\\p{L}\\d])${UNIT}`,
].map((source) => new RegExp(source, 'gu'));
// Number, capitalized words, house number at the end of a line: "20789 Allika 46" (weaker: needs context to count).
const LOOSE_RE = /(?<![\p{L}\d.,:-])\d{2,6}(?:[ \t]+\p{Lu}[\p{L}'’.\-]*){1,4}[ \t]+\d{1,4}[A-Za-z]?\.?(?=[ \t]*(?:\n|$|,|Apt|Suite))/gu;
// The lines after a street line that belong to the address block: unit, city, region, "Country 12345", postcode.
const BLOCK_LINE_RE = /^\n[ \t>?]*(?:(?:Apt\.?|Suite|Unit|Box)[ \t]*\d+|\p{Lu}[\p{L}'’.\-]*(?:[ \t(),]+\p{Lu}[\p{L}'’.\-)]*){0,3}(?:[ \t]+[A-Z]{0,2}\d[\dA-Z \-]{2,8})?|,?[ \t]*[A-Z]{2}|[A-Z]{0,2}\d{3,6}(?:[ \-]?[A-Z\d]{2,3})?)[ \t]*,?[ \t]*(?=\n|$)/u;
// "Friedhofstrasse 33": found from the suffix (cheap to search for), then widened leftwards in code.
const CONT_RE = new RegExp(`(?<=\\p{Ll})${CONT_SUFFIX}[ \\t]+\\d{1,5}[A-Za-z]?(?![\\p{L}\\d])${UNIT}`, 'gu');
const CONT_LEFT_RE = /(?:\d{1,6}[ \t]+)?(?:[\p{Lu}\d][\p{L}\d'’.\-]*[ \t]+){0,2}\p{Lu}[\p{L}\-]*$/u;
const UNIT_RE = /(?:(?:Apt\.?|Apartment|Suite|Ste\.|Unit|Flat)[ \t]*#?\d{1,5}[A-Za-z]?|PSC[ \t]+\d{3,5},?[ \t]+Box[ \t]+\d{3,5}|P\.?O\.?[ \t]+Box[ \t]+\d{1,6})(?![\p{L}\d])/giu;
const UNIT_HINT = /apt|apartment|suite|ste\.|unit|flat|box/;
const ADDRESS_CONTEXT = contextWords(['address', 'addresses', 'lives', 'live', 'living', 'located', 'location', 'ship', 'shipping', 'sent', 'send', 'deliver', 'delivery', 'billing', 'mailing', 'residence', 'resides', 'street', 'moved', 'at', 'on', 'visit', 'office']);

export const streetAddressRecognizer: Recognizer = {
  type: 'STREET_ADDRESS',
  scan(text, lower, out) {
    const found: EntitySpan[] = [];
    for (const m of text.matchAll(CONT_RE)) {
      const from = Math.max(0, m.index - 48);
      const left = CONT_LEFT_RE.exec(text.slice(from, m.index));
      if (!left) continue;
      const start = from + left.index;
      if (start > 0 && /[\p{L}\d]/u.test(text[start - 1]!)) continue;
      const end = m.index + m[0].length;
      found.push({ type: 'STREET_ADDRESS', start, end, score: boosted(0.55, hasContext(lower, start, end, ADDRESS_CONTEXT, 40, 0), 0.3) });
    }
    for (const re of STREET_RES) {
      for (const m of text.matchAll(re)) {
        const start = m.index;
        const end = start + m[0].length;
        if (found.some((f) => start < f.end && f.start < end)) continue;
        found.push({ type: 'STREET_ADDRESS', start, end, score: boosted(0.55, hasContext(lower, start, end, ADDRESS_CONTEXT, 40, 0), 0.3) });
      }
    }
    for (const m of text.matchAll(LOOSE_RE)) {
      const start = m.index;
      const end = start + m[0].length;
      if (found.some((f) => start < f.end && f.start < end)) continue;
      found.push({ type: 'STREET_ADDRESS', start, end, score: boosted(0.35, hasContext(lower, start, end, ADDRESS_CONTEXT, 40, 0), 0.3) });
    }
    for (const m of UNIT_HINT.test(lower) ? text.matchAll(UNIT_RE) : []) {
      const start = m.index;
      if (start > 0 && /[\p{L}\d]/u.test(text[start - 1]!)) continue;
      const end = start + m[0].length;
      if (found.some((f) => start < f.end && f.start < end)) continue;
      // A unit line right after a street line belongs to it; alone it needs context.
      const prev = found.find((f) => f.end <= start && /^[\s,>?]*$/.test(text.slice(f.end, start)));
      if (prev) prev.end = end;
      else found.push({ type: 'STREET_ADDRESS', start, end, score: boosted(0.3, hasContext(lower, start, end, ADDRESS_CONTEXT, 40, 0), 0.3) });
    }
    for (const f of found) {
      // Take in the following lines of the block (at most four), so city and postcode are masked with the street.
      for (let k = 0; k < 4 && f.end < text.length; k++) {
        let rest = text.slice(f.end, f.end + 64);
        const blank = /^\n[ \t]*(?=\n)/.exec(rest);
        const skip = blank ? blank[0].length : 0;
        rest = rest.slice(skip);
        const line = BLOCK_LINE_RE.exec(rest);
        if (!line) break;
        f.end += skip + line[0].length;
      }
      out.push(f);
    }
  },
};
