"""API tokens: an agency's systems reach the export API with them."""
