"""The export API (/api/v1): tokens, accepted ideas out, pipeline progress back in."""
