// Validates an OpenAPI document (a file path) with @apidevtools/swagger-parser: the OpenAPI
// JSON Schema for its version, plus the parser's own checks (resolvable $refs, path
// parameters declared, unique operation ids). Exit 0 when valid; the errors otherwise.
import SwaggerParser from '@apidevtools/swagger-parser';

const file = process.argv[2];
try {
  const api = await SwaggerParser.validate(file);
  console.log(`valid: OpenAPI ${api.openapi}, ${Object.keys(api.paths).length} paths`);
} catch (err) {
  console.error(`invalid: ${err.message}`);
  process.exit(1);
}
