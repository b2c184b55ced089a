"""The Beam graph: read -> check/decode -> RunInference(embed_image) -> drop duplicate ids ->
write embeddings shards, the dead-letter errors file and the counts (summary.json)."""

import json
import re

import apache_beam as beam
from apache_beam.io import fileio
from apache_beam.io.tfrecordio import ReadAllFromTFRecord
from apache_beam.ml.inference.base import KeyedModelHandler, RunInference
from apache_beam.options.pipeline_options import PipelineOptions

from tfembed.beam.inputs import ERRORS, ParseRecord, ReadImage, glob_root
from tfembed.beam.model import EmbedImageHandler
from tfembed.data.embeddings_file import SHARD_PREFIX, example_bytes


def _failed_batch(element):
    """RunInference's dead letter (batch of ((id, source), value), error) -> error rows."""
    batch, error = element
    if isinstance(error, tuple):  # (type, repr, formatted traceback) in current Beam
        name, text = error[0].__name__, (error[2][-1] if len(error) > 2 else error[1])
        text = text.split(": ", 1)[-1]  # the traceback's last line repeats the type
    else:
        name, text = type(error).__name__, str(error)
    text = " ".join(re.sub(r"\{\{.*?\}\}|\[Op:\w+\]", "", text).split())  # TF op noise
    reason = f"model failed on this input's batch: {name}: {text[:500]}"
    return [{"id": id_, "source": source, "reason": reason} for (id_, source), _ in batch]


class _KeepUnique(beam.DoFn):
    """Serialize ((id, source), embedding) unless the id is duplicated (all copies -> errors:
    which one is right cannot be told)."""

    def process(self, element, duplicates):
        (id_, source), embedding = element
        if id_ in duplicates:
            yield beam.pvalue.TaggedOutput(ERRORS, {
                "id": id_, "source": source,
                "reason": f"duplicate id: {duplicates[id_]} inputs have it"})
        else:
            yield example_bytes(id_, embedding)


def _read(p, pattern, images, input_name, feature_dim):
    if images:
        files = (p | "Match" >> fileio.MatchFiles(pattern)
                 | "Open" >> fileio.ReadMatches(skip_directories=True))
        return files | "ReadImages" >> beam.ParDo(ReadImage(glob_root(pattern))).with_outputs(
            ERRORS, main="ok")
    records = (p | "Pattern" >> beam.Create([pattern])
               | "ReadShards" >> ReadAllFromTFRecord(with_filename=True))
    return records | "Parse" >> beam.ParDo(ParseRecord(input_name, feature_dim)).with_outputs(
        ERRORS, main="ok")


def _summary(embedded, failed):
    return json.dumps({"embedded": embedded, "failed": failed})


def build(beam_args, *, pattern, images, version, input_name, feature_dim, out, batch_size,
          num_shards):
    """Build and run the pipeline (blocks until it finishes)."""
    join = beam.io.filesystems.FileSystems.join
    with beam.Pipeline(options=PipelineOptions(beam_args)) as p:
        read = _read(p, pattern, images, input_name, feature_dim)
        handler = KeyedModelHandler(EmbedImageHandler(version, input_name, batch_size))
        embedded, dead = read.ok | "Embed" >> RunInference(handler).with_exception_handling()
        duplicates = (embedded | "Ids" >> beam.Map(lambda kv: kv[0][0])
                      | "CountIds" >> beam.combiners.Count.PerElement()
                      | "Duplicated" >> beam.Filter(lambda kv: kv[1] > 1))
        kept = embedded | "KeepUnique" >> beam.ParDo(
            _KeepUnique(), duplicates=beam.pvalue.AsDict(duplicates)).with_outputs(
                ERRORS, main="ok")
        failed_batches = dead.failed_inferences | "FailedBatches" >> beam.FlatMap(_failed_batch)
        errors = ((read[ERRORS], failed_batches, kept[ERRORS]) | "AllErrors" >> beam.Flatten())
        kept.ok | "WriteEmbeddings" >> beam.io.WriteToTFRecord(
            join(out, SHARD_PREFIX), file_name_suffix=".tfrecord", num_shards=num_shards)
        errors | "ErrorJson" >> beam.Map(json.dumps) | "WriteErrors" >> beam.io.WriteToText(
            join(out, "errors"), file_name_suffix=".jsonl")
        written = kept.ok | "CountWritten" >> beam.combiners.Count.Globally()
        failed = errors | "CountFailed" >> beam.combiners.Count.Globally()
        (written | "Summary" >> beam.Map(_summary, failed=beam.pvalue.AsSingleton(failed))
         | "WriteSummary" >> beam.io.WriteToText(join(out, "summary"), file_name_suffix=".json",
                                                 shard_name_template=""))
