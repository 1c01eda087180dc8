"""Stage `decoupled`: with Adam, an L2 penalty in the loss is not weight decay (Loshchilov and
Hutter, "Decoupled Weight Decay Regularization", 2019). The tutorial's coupled l2 and AdamW's
decoupled decay, both on the hidden kernel, over `decoupled.values`, in one engine call."""

from weightreg import data as prepared, io, study
from weightreg.params import Params

COUPLED, DECOUPLED = "l2 (coupled)", "decay (AdamW)"


def configurations(params: Params) -> list[study.Configuration]:
    """A loss term, or decay outside the loss, at each strength. `kind` names the method, so
    the per-kind lambda plot draws one line for each."""
    coupled = [study.Configuration(f"l2({v:g})", {"kind": COUPLED, "lambda": v}, "l2",
                                   {"hidden_kernel": v}) for v in params.decoupled.values]
    decoupled = [study.Configuration(f"decay({v:g})", {"kind": DECOUPLED, "lambda": v},
                                     decay={"hidden_kernel": v}) for v in params.decoupled.values]
    return coupled + decoupled


def run(params: Params, *, data: str, baseline: str, members: str, table: str,
        metrics: str) -> str:
    control = study.baseline(baseline)  # read first: a bad file fails before training
    outcomes = study.search(params, prepared.load(data), configurations(params), "decoupled",
                            params.study.search)
    rows = study.summaries(outcomes, control)

    score = study.score(outcomes[0].task)

    def best(method):
        mine = [i for i, o in enumerate(outcomes) if o.configuration.fields["kind"] == method]
        i = study.best([rows[i] for i in mine],
                       [outcomes[i].configuration.fields["lambda"] for i in mine], score)
        return outcomes[mine[i]].configuration, rows[mine[i]]

    (coupled, coupled_row), (decay, decay_row) = best(COUPLED), best(DECOUPLED)
    io.write({
        members: study.members_table(outcomes), table: study.summary_table(outcomes, rows),
        metrics: io.to_json({f"coupled_{score}": coupled_row[score],
                             f"decay_{score}": decay_row[score]}),
    })
    name = outcomes[0].task.score_name
    return (f"{len(params.decoupled.values)} strengths, best coupled {coupled.label}: test "
            f"{name} {coupled_row[score]:.3f}, best decoupled {decay.label}: test {name} "
            f"{decay_row[score]:.3f}{study.pruned(outcomes)}")


def figures(picture, tables):
    from weightreg import plots

    return {"decoupled": plots.lambda_curve(
        tables["decoupled"], picture.dataset.task, title="Coupled l2 against decoupled weight decay (AdamW), "
        "hidden kernel", xlabel="strength")}
