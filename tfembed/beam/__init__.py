"""Apache Beam jobs (optional extra `tfembed[beam]`): `embed_images` embeds an image collection
with an exported SavedModel on any Beam runner (DirectRunner here; Dataflow, Flink, Spark)."""
