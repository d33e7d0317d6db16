#!/usr/bin/env python3
"""An Open Inference Protocol gRPC client for test/grpc/python-client.test.ts, written against the .proto only.

It uses Debian's python3-grpcio and python3-protobuf, with stubs that grpc_tools.protoc (python3-grpc-tools)
generated from server/grpc/proto/grpc_service.proto and model_config.proto into the directory it is given; no
code of batch-infer's takes part on this side. It plays a plan (JSON on stdin) against the server and prints
what the server answered (JSON on stdout): every message as protobuf's JSON mapping (MessageToDict, field names
as in the .proto), inference outputs decoded from raw_output_contents, failures as their status code and details.

Usage: oip_client.py <stubs dir> <host:port> <admin token> < plan.json > answers.json
"""
import json
import struct
import sys

import numpy as np

sys.path.insert(0, sys.argv[1])

import grpc  # noqa: E402
import grpc_service_pb2 as pb  # noqa: E402
import grpc_service_pb2_grpc as pb_grpc  # noqa: E402
from google.protobuf.json_format import MessageToDict  # noqa: E402

TARGET, ADMIN_TOKEN = sys.argv[2], sys.argv[3]
ADMIN = (("authorization", "Bearer " + ADMIN_TOKEN),)

NUMPY = {
    "BOOL": np.bool_, "INT8": np.int8, "INT16": np.int16, "INT32": np.int32, "INT64": np.int64,
    "UINT8": np.uint8, "UINT16": np.uint16, "UINT32": np.uint32, "UINT64": np.uint64,
    "FP16": np.float16, "FP32": np.float32, "FP64": np.float64,
}
CONTENTS = {
    "BOOL": "bool_contents", "INT8": "int_contents", "INT16": "int_contents", "INT32": "int_contents",
    "INT64": "int64_contents", "UINT8": "uint_contents", "UINT16": "uint_contents", "UINT32": "uint_contents",
    "UINT64": "uint64_contents", "FP32": "fp32_contents", "FP64": "fp64_contents", "BYTES": "bytes_contents",
}


def as_dict(message):
    return MessageToDict(message, preserving_proto_field_name=True)


def flat(values):
    out = []
    for v in values:
        out.extend(flat(v) if isinstance(v, list) else [v])
    return out


def raw_bytes(datatype, values):
    """A tensor's values in the binary tensor layout: little-endian, BYTES elements length-prefixed."""
    if datatype == "BYTES":
        encoded = [v.encode("utf-8") for v in values]
        return b"".join(struct.pack("<I", len(e)) + e for e in encoded)
    return np.array(values, dtype=np.dtype(NUMPY[datatype]).newbyteorder("<")).tobytes()


def decode(datatype, raw):
    if datatype == "BYTES":
        values, at = [], 0
        while at < len(raw):
            (length,) = struct.unpack_from("<I", raw, at)
            values.append(raw[at + 4 : at + 4 + length].decode("utf-8"))
            at += 4 + length
        return values
    array = np.frombuffer(raw, dtype=np.dtype(NUMPY[datatype]).newbyteorder("<"))
    return [bool(v) for v in array] if datatype == "BOOL" else array.tolist()


def infer_request(model, body, raw):
    """A REST inference body as a ModelInferRequest: data in raw_input_contents, or in typed contents."""
    request = pb.ModelInferRequest(model_name=model, id=body.get("id", ""))
    for given in body["inputs"]:
        tensor = request.inputs.add(name=given["name"], datatype=given["datatype"], shape=given["shape"])
        values = flat(given["data"])
        if raw:
            request.raw_input_contents.append(raw_bytes(given["datatype"], values))
        elif given["datatype"] == "BYTES":
            tensor.contents.bytes_contents.extend(v.encode("utf-8") for v in values)
        else:
            getattr(tensor.contents, CONTENTS[given["datatype"]]).extend(values)
    for output in body.get("outputs", []):
        request.outputs.add(name=output["name"])
    return request


def call(method, request, metadata=()):
    try:
        return {"ok": method(request, metadata=metadata, timeout=60)}
    except grpc.RpcError as err:
        return {"code": err.code().name, "details": err.details()}


def answer(result):
    return {"ok": as_dict(result["ok"])} if "ok" in result else result


def main():
    plan = json.load(sys.stdin)
    stub = pb_grpc.GRPCInferenceServiceStub(grpc.insecure_channel(TARGET))
    out = {
        "live": answer(call(stub.ServerLive, pb.ServerLiveRequest())),
        "ready": answer(call(stub.ServerReady, pb.ServerReadyRequest())),
        "server_metadata": answer(call(stub.ServerMetadata, pb.ServerMetadataRequest())),
        "models": {},
        "infer": [],
    }
    for model in plan["models"]:
        out["models"][model] = {
            "metadata": answer(call(stub.ModelMetadata, pb.ModelMetadataRequest(name=model))),
            "ready": answer(call(stub.ModelReady, pb.ModelReadyRequest(name=model))),
            "config": answer(call(stub.ModelConfig, pb.ModelConfigRequest(name=model))),
        }
    for case in plan["infer"]:
        answers = {}
        for kind in ("raw", "contents"):
            result = call(stub.ModelInfer, infer_request(case["model"], case["body"], kind == "raw"))
            if "ok" in result:
                response = result["ok"]
                result = {
                    "ok": {
                        "model_name": response.model_name,
                        "model_version": response.model_version,
                        "id": response.id,
                        "outputs": [
                            {"name": o.name, "datatype": o.datatype, "shape": list(o.shape),
                             "data": decode(o.datatype, raw)}
                            for o, raw in zip(response.outputs, response.raw_output_contents)
                        ],
                    }
                }
            answers[kind] = result
        out["infer"].append(answers)
    out["statistics"] = answer(call(stub.ModelStatistics, pb.ModelStatisticsRequest()))
    out["model_statistics"] = {
        model: answer(call(stub.ModelStatistics, pb.ModelStatisticsRequest(name=model))) for model in plan["models"]
    }
    out["unknown_model"] = {
        "metadata": answer(call(stub.ModelMetadata, pb.ModelMetadataRequest(name="no-such-model"))),
        "ready": answer(call(stub.ModelReady, pb.ModelReadyRequest(name="no-such-model"))),
    }
    out["index_without_token"] = answer(call(stub.RepositoryIndex, pb.RepositoryIndexRequest()))
    reload = plan["reload"]
    out["unload"] = answer(call(stub.RepositoryModelUnload, pb.RepositoryModelUnloadRequest(model_name=reload), ADMIN))
    out["ready_after_unload"] = answer(call(stub.ModelReady, pb.ModelReadyRequest(name=reload)))
    out["index_after_unload"] = answer(call(stub.RepositoryIndex, pb.RepositoryIndexRequest(), ADMIN))
    out["load"] = answer(call(stub.RepositoryModelLoad, pb.RepositoryModelLoadRequest(model_name=reload), ADMIN))
    out["ready_after_load"] = answer(call(stub.ModelReady, pb.ModelReadyRequest(name=reload)))
    out["index"] = answer(call(stub.RepositoryIndex, pb.RepositoryIndexRequest(), ADMIN))
    json.dump(out, sys.stdout)


main()
