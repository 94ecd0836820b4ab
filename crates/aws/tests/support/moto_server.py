"""moto's server, with one correction to what it sends.

moto 5.2 (through 5.2.5, the newest on PyPI in December 2026) names the root
element of some S3 answers it serialises from the service model
`<Operation>Response`; S3 names them as its API reference does
(`ListPartsResult`, `CompleteMultipartUploadResult`, ...), and aws-sdk-s3
refuses any other name as a malformed answer. This renames those roots and
changes nothing else. Arguments are moto_server's.
"""

import logging
import sys

# One line per request on stderr would bury the tests' own output.
logging.getLogger("werkzeug").setLevel(logging.ERROR)

try:
    import awscrt  # noqa: F401  (moto computes CRC64NVME with it)
except ImportError:
    sys.exit("moto_server.py: awscrt is missing; without it moto answers a CRC32 as CRC64NVME")

from moto.core import serialize

# S3 operation -> the root element S3 answers with.
S3_ROOTS = {
    "ListParts": "ListPartsResult",
    "CompleteMultipartUpload": "CompleteMultipartUploadResult",
    "CreateMultipartUpload": "InitiateMultipartUploadResult",
    "ListObjectsV2": "ListBucketResult",
    "ListMultipartUploads": "ListMultipartUploadsResult",
    "CopyObject": "CopyObjectResult",
}

_original = serialize.BaseXMLSerializer._serialized_result_to_response


def _with_s3_root_names(self, resp, result, shape, serialized_result):
    resp = _original(self, resp, result, shape, serialized_result)
    operation = self.operation_model.name
    root = S3_ROOTS.get(operation)
    if root and isinstance(self, serialize.S3Serializer) and isinstance(resp.get("body"), str):
        wrong = f"{operation}Response"
        resp["body"] = (
            resp["body"].replace(f"<{wrong}", f"<{root}", 1).replace(f"</{wrong}>", f"</{root}>", 1)
        )
    return resp


serialize.BaseXMLSerializer._serialized_result_to_response = _with_s3_root_names

from moto.server import main  # noqa: E402  (after the correction)

sys.exit(main())
