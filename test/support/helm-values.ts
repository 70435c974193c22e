// Helm's merge lives with the program, which merges monitoringChartValues over its own values; the
// suites that merge chart values import it from here.
export { helmMerge } from "../../components/monitoring/helm-values";
