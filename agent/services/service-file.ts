import path from 'node:path';
import { asParsed, readPropertiesText, readText, type ParsedServiceFile } from './properties-file.js';
import { isWpsFlatFile, readWpsFlatFile } from './wps-flat-file.js';
import { readServiceConfig } from './wps-service-config.js';

/** A WPS Remote module's own layout: a folder per service, holding its service.config and scripts. */
export const SERVICE_CONFIG = 'service.config';

/**
 * Reads one service file in whichever form it is written (README, Coming from WPS Remote):
 * `*.config` is a WPS Remote service.config, a `.properties` file in WPS Remote's flat form is
 * read as that form, any other `.properties` file natively. Never throws for a bad file.
 */
export async function readAnyServiceFile(dir: string, file: string): Promise<ParsedServiceFile> {
  return asParsed(file, async () => {
    const text = await readText(path.join(dir, file));
    if (file.endsWith('.config')) return readServiceConfig(dir, file, text);
    if (isWpsFlatFile(text)) return readWpsFlatFile(dir, file, text);
    return readPropertiesText(dir, file, text);
  });
}
