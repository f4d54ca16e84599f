"""A polyglot client: submits a job and reads it back over native gRPC, using only the Python code
generated from the same protos as the TypeScript (gen/python). Prints one JSON line for the test."""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "gen", "python"))

import grpc  # noqa: E402
from gigafactory.fleet.v1 import job_pb2, job_service_pb2, job_service_pb2_grpc  # noqa: E402


def main(address: str) -> None:
    with grpc.insecure_channel(address) as channel:
        jobs = job_service_pb2_grpc.JobServiceStub(channel)
        submitted = jobs.SubmitJob(
            job_service_pb2.SubmitJobRequest(
                product_id="polyglot",
                command=["python3", "-c", "print('hi')"],
                required_labels=[
                    job_pb2.LabelRequirement(key="os", operator=job_pb2.LABEL_OPERATOR_EQUALS, values=["linux"])
                ],
                priority=7,
                idempotency_key="py-1",
            ),
            timeout=10,
        )
        got = jobs.GetJob(job_service_pb2.GetJobRequest(job_id=submitted.job.id), timeout=10)
        try:
            jobs.GetJob(job_service_pb2.GetJobRequest(job_id="job_missing"), timeout=10)
            missing = "no error"
        except grpc.RpcError as err:
            missing = err.code().name
        print(
            json.dumps(
                {
                    "created": submitted.created,
                    "id": got.job.id,
                    "same": got.job.id == submitted.job.id,
                    "stage": job_pb2.JobStage.Name(got.job.stage),
                    "priority": got.job.priority,
                    "command": list(got.job.command),
                    "missing": missing,
                }
            )
        )


if __name__ == "__main__":
    main(sys.argv[1])
