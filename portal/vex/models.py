"""VEX: the vendor's statements about whether a vulnerability affects its products, shared by every
tenant, and each tenant's own analysis of the findings of a version (its triage), kept as a history.

A statement is stored with one row per product it names (and per subcomponent of that product), in the
shape the matching needs (`portal.vex.products`), so the statements that may apply to a version's findings
are one indexed read.
"""

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from portal.auth.actor import CreatedBy
from portal.db import Base, JSONDocument, TenantOwned
from portal.kit.ids import new_id


class VexStatement(CreatedBy, Base):
    __tablename__ = "vex_statements"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    # SHA-256 of the statement as stated (with its document's id): importing it again adds nothing.
    fingerprint: Mapped[str] = mapped_column(String(64), unique=True)
    # openvex, cyclonedx or portal (`portal vex add`)
    format: Mapped[str] = mapped_column(String(16))
    # the document it came from: its @id or serial number, else the file
    origin: Mapped[str] = mapped_column(String(1000))
    vulnerability: Mapped[str] = mapped_column(String(200), index=True)
    # its name and every alias the statement gives, upper case, separated by spaces (ids have none):
    # read for every statement a findings list weighs, so it is split, not parsed
    vulnerability_ids: Mapped[str] = mapped_column(Text)

    @property
    def identifiers(self) -> list[str]:
        return self.vulnerability_ids.split()

    # OpenVEX's: not_affected, affected, fixed, under_investigation
    status: Mapped[str] = mapped_column(String(32))
    justification: Mapped[str | None] = mapped_column(String(64))
    # OpenVEX's impact_statement (CycloneDX's analysis detail)
    statement: Mapped[str | None] = mapped_column(Text)
    # OpenVEX's action_statement (CycloneDX's responses)
    action: Mapped[str | None] = mapped_column(Text)
    # the products as stated (purls or BOM-Links), for reading it back
    products: Mapped[list[str]] = mapped_column(JSONDocument)
    # when the author made it: the statement's timestamp, else its document's; the latest one wins
    stated_at: Mapped[datetime] = mapped_column(index=True)
    created_at: Mapped[datetime] = mapped_column(index=True)
    revoked_at: Mapped[datetime | None]


class VexProduct(Base):
    """One (product, subcomponent) of a statement, as the matching reads it. `component_key` is what the
    finding's component must be (the subcomponent's purl, else the product's when it is a package); null
    for an image product without subcomponents (every component of the image).

    It carries a copy of what its statement says (its ids, status, words and times), so that the rows that
    may speak for a version's findings are one read of one table: a findings list weighs thousands of
    them, and a join per row by the statement's id costs more than the rest of the list. Statements never
    change; revoking one marks its rows too (`VexRepository.revoke`).
    """

    __tablename__ = "vex_statement_products"
    __table_args__ = (Index("ix_vex_statement_products_component_key", "component_key"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    statement_id: Mapped[str] = mapped_column(ForeignKey("vex_statements.id", ondelete="CASCADE"), index=True)
    # an image: its name as the purl names it, and its digest when the purl gives one
    image_name: Mapped[str | None] = mapped_column(String(200), index=True)
    image_digest: Mapped[str | None] = mapped_column(String(71))
    # a package product that subcomponents are named in: the version must hold it
    container_key: Mapped[str | None] = mapped_column(String(1000))
    container_version: Mapped[str | None] = mapped_column(String(300))
    component_key: Mapped[str | None] = mapped_column(String(1000))
    component_version: Mapped[str | None] = mapped_column(String(300))
    # the statement's, copied
    vulnerability_ids: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(32))
    justification: Mapped[str | None] = mapped_column(String(64))
    statement: Mapped[str | None] = mapped_column(Text)
    action: Mapped[str | None] = mapped_column(Text)
    # stated_at and created_at in microseconds since the epoch: what the matching orders by, read
    # without parsing a time
    stated_us: Mapped[int] = mapped_column(BigInteger)
    created_us: Mapped[int] = mapped_column(BigInteger)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)


class FindingAnalysis(CreatedBy, TenantOwned, Base):
    """One entry of a tenant's analysis of a vulnerability in a version: the newest entry is the analysis,
    the older ones its history. A withdrawal is an entry without a state."""

    __tablename__ = "finding_analyses"
    __table_args__ = (Index("ix_finding_analyses_tenant_version", "tenant_id", "version_id", "recorded_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    version_id: Mapped[str] = mapped_column(ForeignKey("image_versions.id", ondelete="CASCADE"))
    # the finding's vulnerability id as the findings show it, upper case
    vulnerability_id: Mapped[str] = mapped_column(String(200))
    # CycloneDX's analysis state; null: withdrawn
    state: Mapped[str | None] = mapped_column(String(32))
    justification: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[str | None] = mapped_column(Text)
    response: Mapped[list[str]] = mapped_column(JSONDocument)
    expires_at: Mapped[datetime | None]
    recorded_at: Mapped[datetime]
