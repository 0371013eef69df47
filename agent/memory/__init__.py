"""Long-term memory: past tickets in Chroma, recalled by similarity and by customer (agent/memory/)."""
