//! `b1bridge audit [--orders N] [--format text|json]`: the go-live audit from a terminal.
//!
//! Started like any run (a run row and its job, refused while another audit is active,
//! listed by `GET /api/v1/runs`) and executed here by a worker pool of this process that does
//! audits only. The report is printed; the command fails (exit 1) when the run failed or a
//! finding is blocking, so a deployment can be gated on it.
use crate::cli::{AuditArgs, AuditFormat};
use crate::domain::audit::AuditReport;
use crate::domain::run::{RunKind, RunStatus, RunTrigger};
use crate::sap::SapClient;
use crate::store::runs::StartError;
use crate::worker::audit::Audit;
use crate::worker::run_job::{self, RunHereError};

pub async fn audit(args: AuditArgs) -> anyhow::Result<()> {
    let db = args.db.settings()?;
    let pool = crate::store::connect(&db).await?;
    let sap = SapClient::new(&args.sap.settings()?)?;
    let Some(magento) = args.magento.client()? else {
        anyhow::bail!("MAGENTO_URL and MAGENTO_TOKEN are required: the audit reads the store");
    };
    let task = Audit::new(sap.clone(), magento).with_orders(args.orders);
    let finished = run_job::run_here(&pool, RunKind::Audit, RunTrigger::Cli, "cli", task).await;
    let _ = sap.logout().await;
    let run = match finished {
        Ok(run) => run,
        Err(RunHereError::Start(StartError::Active { run, .. })) => anyhow::bail!(
            "an audit run is already queued or running ({run}); try again when it has finished"
        ),
        Err(e) => return Err(e.into()),
    };
    if run.status != RunStatus::Succeeded {
        anyhow::bail!(
            "audit run {} failed: {}",
            run.id,
            run.error.unwrap_or_default()
        );
    }
    let report: AuditReport = serde_json::from_value(run.figures.clone())?;
    let printed = match args.format {
        AuditFormat::Text => format!("{}run {}\n", report.to_text(), run.id),
        AuditFormat::Json => format!(
            "{}\n",
            serde_json::to_string_pretty(&serde_json::json!({
                "run_id": run.id,
                "ready": !report.has_blocking(),
                "report": report,
            }))?
        ),
    };
    crate::cli::print_stdout(&printed)?;
    if report.has_blocking() {
        anyhow::bail!(
            "{} blocking finding(s): not ready for go-live",
            report.figures.blocking
        );
    }
    Ok(())
}
