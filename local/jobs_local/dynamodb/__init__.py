"""DynamoDB: what moto's leaves out, and where it keeps the promise slowly.

- `atomic`: each request is one atomic step (moto checks a condition, then writes, while other
  requests run on other threads).
- `responses`: items are written out directly (moto's generic serializer walks every value).
- `transaction_rollback`: a failed transaction puts back only what it wrote (moto copies every
  table it names before it starts).
"""
