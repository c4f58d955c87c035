#!/usr/bin/env python3
"""An independent Kafka consumer for cli/tests/kafka.rs: reads a topic from the start with
kafka-python until EXPECTED records arrived or IDLE seconds pass without one, checks each
value (a flowwire JSON line, or with --protobuf a length-delimited goflow2 FlowMessage decoded
here by hand) and prints one JSON summary line:

  records, bad (values that do not parse), partitions ({partition: count}),
  keys ({key: [partitions]}), out_of_order (records whose export sequence number is lower
  than the one before from the same key in the same partition), kinds ({type: count}),
  exporters ({address: count}).

usage: kafka_consume.py BROKER TOPIC EXPECTED IDLE [--protobuf | --type TYPE]

--type TYPE: the values are JSON records of that "type" (counters, options) instead of flows.
"""
import json
import sys
import time

from kafka import KafkaConsumer, TopicPartition


def varint(data, at):
    value, shift = 0, 0
    while True:
        if at >= len(data):
            raise ValueError("varint past the end")
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, at
        shift += 7


def protobuf_fields(data):
    """The scalar and bytes fields of one protobuf message: {number: last value}."""
    fields, at = {}, 0
    while at < len(data):
        key, at = varint(data, at)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, at = varint(data, at)
        elif wire == 2:
            length, at = varint(data, at)
            if at + length > len(data):
                raise ValueError("field past the end")
            value, at = data[at : at + length], at + length
        elif wire == 1:
            value, at = data[at : at + 8], at + 8
        elif wire == 5:
            value, at = data[at : at + 4], at + 4
        else:
            raise ValueError("wire type %d" % wire)
        fields[number] = value
    return fields


FLOW_TYPES = {1: "sflow5", 2: "netflow5", 3: "netflow9", 4: "ipfix"}


def parse(value, protobuf, record_type):
    """(kind, exporter, sequence) of one record value; raises on a bad value."""
    if not protobuf:
        record = json.loads(value)
        if record.get("type") != record_type:
            raise ValueError("not a %s record" % record_type)
        return record.get("kind"), record.get("exporter"), record.get("sequence", 0)
    length, at = varint(value, 0)
    if at + length != len(value):
        raise ValueError("length prefix %d, %d octets follow" % (length, len(value) - at))
    fields = protobuf_fields(value[at:])
    sampler = fields.get(11, b"")
    exporter = ".".join(str(b) for b in sampler) if len(sampler) == 4 else sampler.hex()
    return FLOW_TYPES.get(fields.get(1, 0), "unknown"), exporter, fields.get(4, 0)


def main():
    broker, topic, expected, idle = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    options = sys.argv[5:]
    protobuf = "--protobuf" in options
    record_type = options[options.index("--type") + 1] if "--type" in options else "flow"
    consumer = KafkaConsumer(
        bootstrap_servers=broker,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        consumer_timeout_ms=500,
    )
    deadline = time.time() + 30
    partitions = None
    while partitions is None and time.time() < deadline:
        partitions = consumer.partitions_for_topic(topic)
        if partitions is None:
            time.sleep(0.2)
    if partitions is None:
        print(json.dumps({"error": "topic %s not found" % topic}))
        return 1
    consumer.assign([TopicPartition(topic, p) for p in sorted(partitions)])
    consumer.seek_to_beginning()

    records, bad = 0, 0
    per_partition, keys, kinds, exporters = {}, {}, {}, {}
    last_sequence, out_of_order = {}, 0
    last_seen = time.time()
    while records < expected and time.time() - last_seen < idle:
        batch = consumer.poll(timeout_ms=500, max_records=10000)
        for tp, messages in batch.items():
            for m in messages:
                last_seen = time.time()
                records += 1
                per_partition[tp.partition] = per_partition.get(tp.partition, 0) + 1
                key = m.key.decode() if m.key is not None else None
                keys.setdefault(key, set()).add(tp.partition)
                try:
                    kind, exporter, sequence = parse(m.value, protobuf, record_type)
                except (ValueError, TypeError, UnicodeDecodeError):
                    bad += 1
                    continue
                kinds[kind] = kinds.get(kind, 0) + 1
                exporters[str(exporter)] = exporters.get(str(exporter), 0) + 1
                place = (key, tp.partition)
                if sequence < last_sequence.get(place, 0):
                    out_of_order += 1
                last_sequence[place] = sequence
    consumer.close()
    print(
        json.dumps(
            {
                "records": records,
                "bad": bad,
                "partitions": {str(p): n for p, n in sorted(per_partition.items())},
                "keys": {str(k): sorted(v) for k, v in keys.items()},
                "out_of_order": out_of_order,
                "kinds": kinds,
                "exporters": exporters,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
