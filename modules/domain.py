"""Custom domains: the existing Route 53 hosted zone, ACM certificates validated through it (the
load balancer's in the stack's region, the distribution's in us-east-1), and the alias records that
point the names at the load balancer and the distribution."""

from __future__ import annotations

from dataclasses import dataclass

from cdktf import Fn, Postcondition, TerraformIterator, TerraformLocal, TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.acm_certificate import AcmCertificate, AcmCertificateOptions
from cdktf_cdktf_provider_aws.acm_certificate_validation import AcmCertificateValidation
from cdktf_cdktf_provider_aws.data_aws_route53_zone import DataAwsRoute53Zone
from cdktf_cdktf_provider_aws.provider import AwsProvider
from cdktf_cdktf_provider_aws.route53_record import Route53Record, Route53RecordAlias
from constructs import Construct

from config.domain import DomainConfig
from config.frontend import CLOUDFRONT_REGION

from .block import Block, Naming
from .network import config_file
from .provider import AwsProviders

# Validation records are looked up by resolvers only while ACM validates and renews; a minute keeps
# a fix (a re-created record) quick to take effect.
VALIDATION_TTL_SECONDS = 60
# Construct-ID roles of the distribution's names, in the order of DomainConfig.site_names.
SITE_ROLES = ("site", "www")


@dataclass(frozen=True, kw_only=True)
class AliasTarget:
    """Where an alias record points: an AWS endpoint's DNS name and its Route 53 hosted zone."""

    dns_name: str
    zone_id: str
    evaluate_target_health: bool
    """Route 53 answers only while the target is healthy (a load balancer with a healthy target);
    CloudFront accepts no health evaluation (false)."""


@dataclass(frozen=True, kw_only=True)
class SiteDomain:
    """What the distribution serves under the custom domain."""

    aliases: list[str]
    """Its names, the site's own first."""
    certificate_arn: str
    """The validated us-east-1 certificate covering every alias."""
    redirect_to: str | None
    """The name every other alias redirects to (301); None: no redirect."""


class Domain(Block):
    """Certificates for the load balancer (``<api_host>.<name>``, in the stack's region) and, with a
    site, the distribution (``<name>``, ``www.<name>``, in us-east-1 through the aliased provider), each
    validated by DNS through the zone; ``alias_api`` and ``alias_site`` add the records serving them.

    One validation record per name, found in the certificate's ``domain_validation_options`` by that
    name (the names come from the config, so the records are known when the stack is written), rather
    than a ``for_each`` over the options: such a ``for_each`` takes its keys from the certificate, and
    Terraform refuses the plan whenever the provider cannot tell them before apply. Each record keeps
    a construct ID of its own role (``api``, ``site``, ``www``)."""

    zone_id: str
    api_name: str
    api_certificate_arn: str
    site: SiteDomain | None

    def __init__(
        self, scope: Construct, construct_id: str, *, settings: DomainConfig, naming: Naming, site: bool
    ) -> None:
        """``site``: the distribution exists (``[frontend]`` on) and needs its certificate."""
        super().__init__(scope, construct_id)
        self._settings = settings
        self._naming = naming
        self.api_name = settings.api_name
        zone = DataAwsRoute53Zone(
            self,
            "zone",
            name=settings.zone_name,
            zone_id=settings.zone_id,
            private_zone=False,
            lifecycle=None
            if settings.zone_id is None
            else TerraformResourceLifecycle(postcondition=[self._site_in_zone(settings.zone_id)]),
        )
        self.zone_id = zone.zone_id
        self.api_certificate_arn = self._certificate({"api": settings.api_name}, provider=None)
        self.site = None
        if site:
            names = dict(zip(SITE_ROLES, settings.site_names, strict=False))
            self.site = SiteDomain(
                aliases=list(names.values()),
                # CloudFront only serves certificates from us-east-1: the provider aliased there, unless the
                # stack is in us-east-1 itself.
                certificate_arn=self._certificate(names, provider=AwsProviders.of(self).in_region(CLOUDFRONT_REGION)),
                redirect_to=settings.site_name if settings.www_redirect else None,
            )

    def alias_api(self, target: AliasTarget) -> str:
        """The ``A`` record of ``<api_host>.<name>`` to the load balancer; its name (``fqdn``), which
        CloudFront's ``/api/*`` origin uses."""
        record = self._alias("api", self.api_name, "A", target)
        return record.fqdn

    def alias_site(self, target: AliasTarget) -> None:
        """``A`` and ``AAAA`` records of every site name to the distribution (it serves IPv6 too)."""
        if self.site is None:
            raise ValueError("no site certificate: build the domain with site=True")
        for role, name in zip(SITE_ROLES, self.site.aliases, strict=False):
            for record_type in ("A", "AAAA"):
                self._alias(f"{role}-{record_type.lower()}", name, record_type, target)

    def _site_in_zone(self, zone_id: str) -> Postcondition:
        """The site's name lies in the zone ``zone_id`` names (with ``zone_name`` the lookup ensures it):
        records outside it would be refused only at apply, after the certificates were requested."""
        site = self._settings.site_name
        zone = 'trimsuffix(self.name, ".")'
        return Postcondition(
            condition=f'${{{zone} == "{site}" || endswith("{site}", ".${{{zone}}}")}}',
            error_message=f"{config_file(self._naming)}: domain.name = {site!r}: must be the hosted zone's name or "
            f"a name under it, and zone {zone_id} is ${{self.name}}",
        )

    def _certificate(self, names: dict[str, str], *, provider: AwsProvider | None) -> str:
        """An ACM certificate for ``names`` (by record role, the first is the certificate's domain name)
        validated by DNS, its validation records, and the validated ARN: a reference that waits until ACM
        has issued it."""
        role, domain_name = next(iter(names.items()))
        certificate = AcmCertificate(
            self,
            f"certificate-{role}",
            domain_name=domain_name,
            subject_alternative_names=list(names.values())[1:] or None,
            validation_method="DNS",
            key_algorithm="RSA_2048",
            options=AcmCertificateOptions(certificate_transparency_logging_preference="ENABLED"),
            provider=provider,
            # A listener or distribution uses the certificate: the replacement (a name changed) must be
            # issued and in use before the old one can be deleted (ResourceInUseException otherwise).
            lifecycle=TerraformResourceLifecycle(create_before_destroy=True),
            tags={"Name": self._naming.name(f"{role}-certificate")},
        )
        # The certificate's validation options by domain name, written once and looked up per name.
        options = TerraformLocal(
            self,
            f"validation-options-{role}",
            TerraformIterator.from_list(certificate.domain_validation_options).for_expression_for_map(
                "val.domain_name", "val"
            ),
        ).as_any_map
        records = [
            Route53Record(
                self,
                f"validation-{record_role}",
                zone_id=self.zone_id,
                name=Fn.lookup_nested(options, [name, "resource_record_name"]),
                type=Fn.lookup_nested(options, [name, "resource_record_type"]),
                records=[Fn.lookup_nested(options, [name, "resource_record_value"])],
                ttl=VALIDATION_TTL_SECONDS,
                # ACM asks for the same record for a name in every certificate of the account: a replacement
                # certificate, or one validated by hand before, finds it already there.
                allow_overwrite=True,
            )
            for record_role, name in names.items()
        ]
        validation = AcmCertificateValidation(
            self,
            f"validated-{role}",
            certificate_arn=certificate.arn,
            validation_record_fqdns=[record.fqdn for record in records],
            provider=provider,
        )
        return validation.certificate_arn

    def _alias(self, role: str, name: str, record_type: str, target: AliasTarget) -> Route53Record:
        return Route53Record(
            self,
            f"record-{role}",
            zone_id=self.zone_id,
            name=name,
            type=record_type,
            alias=Route53RecordAlias(
                name=target.dns_name, zone_id=target.zone_id, evaluate_target_health=target.evaluate_target_health
            ),
        )
