"""Resources shared by every asset, configured through environment variables (defaults in
pipelines.environment; the data root through pipelines.environment.hub_paths, its one reader)."""


from pathlib import Path

import dagster as dg
import sqlalchemy as sa

from pipelines.connectors import erp_sql
from pipelines.connectors.crm_api import DEFAULT_PAGE_DEADLINE_S, CrmClient
from pipelines.environment import hub_paths
from pipelines.lib.dbt_project import dbt_cli
from pipelines.lib.progress_logger import progress_logger
from privacy.keys.keystore import KeyStore
from privacy.keys.master_key import MASTER_KEY_FILE_VAR, MASTER_KEY_VAR, load_master_key
from privacy.keys.vault import Vault
from warehouse.layout import HubPaths


class HubStorage(dg.ConfigurableResource):
    """The hub's data root: bronze, quarantine, silver, gold, state and the warehouse file."""

    data_dir: str

    def paths(self) -> HubPaths:
        return HubPaths(Path(self.data_dir).resolve())

    def key_store(self) -> KeyStore:
        """The key store under the master key the environment names (else the dev key)."""
        paths = self.paths()
        master = load_master_key(key_file=dg.EnvVar(MASTER_KEY_FILE_VAR).get_value(),
                                 key_value=dg.EnvVar(MASTER_KEY_VAR).get_value(),
                                 dev_key_path=paths.dev_master_key)
        return KeyStore.open(paths.key_store, master)

    def vault(self) -> Vault:
        """The key store with its join keys and the data keys in use, for sealing and opening values."""
        return Vault(self.key_store())


class CrmApi(dg.ConfigurableResource):
    """The CRM REST API."""

    base_url: str
    api_key: str
    page_size: int = 500
    deadline_s: float = DEFAULT_PAGE_DEADLINE_S  # per page, retries included

    def client(self) -> CrmClient:
        return CrmClient(self.base_url, self.api_key, page_size=self.page_size, deadline_s=self.deadline_s)


class ErpDatabase(dg.ConfigurableResource):
    """The ERP database, as any SQLAlchemy URL; a SQLite file must exist."""

    url: str

    def engine(self) -> sa.Engine:
        return erp_sql.connect(self.url)


class LandingZone(dg.ConfigurableResource):
    """Folder where partners drop social exports and IoT registry/telemetry files."""

    root: str

    def folder(self, *parts: str) -> Path:
        return Path(self.root).joinpath(*parts)


@dg.definitions
def resources() -> dg.Definitions:
    executor = dg.multiprocess_executor if dg.EnvVar("HUB_EXECUTOR").get_value() == "multiprocess" else dg.in_process_executor
    return dg.Definitions(
        resources={
            "storage": HubStorage(data_dir=str(hub_paths().root)),
            "crm": CrmApi(base_url=dg.EnvVar("HUB_CRM_URL"), api_key=dg.EnvVar("HUB_CRM_API_KEY")),
            "erp": ErpDatabase(url=dg.EnvVar("HUB_ERP_URL")),
            "landing": LandingZone(root=dg.EnvVar("HUB_LANDING_DIR")),
            "dbt": dbt_cli(),
        },
        executor=executor,
        loggers={"console": progress_logger},
    )
