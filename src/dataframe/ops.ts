/**
 * The dataframe ops every worker registers (`dataframe.*`): running a partition's steps, and
 * the partial/combine pairs of the reductions. Readers (io/) and the groupby, join and sort
 * kernels (kernels/) register theirs in their own files, imported here.
 */

import { registerOp } from "../worker/registry.js";
import { asFrame } from "./frame.js";
import { applySteps, type Step } from "./steps.js";
import "./reduce.js";
import "./partitions.js";
import "./groupby.js";
import "./merge.js";
import "./summary.js";
import "./sort-values.js";
import "./dummies.js";
import "./write.js";
import "./io/ops-csv.js";
import "./io/ops-parquet.js";

registerOp("dataframe.pipeline", (spec: { steps: Step[] }, frame: unknown) => applySteps(asFrame(frame, "dataframe.pipeline"), spec.steps));

registerOp("dataframe.len", (frame: unknown) => asFrame(frame, "dataframe.len").length);
