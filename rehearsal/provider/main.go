// Command terraform-provider-aws is tfgen's stand-in for hashicorp/aws in a rehearsal
// (`tfgen rehearse`). It accepts the provider configuration a tfgen tree generates
// (region, allowed_account_ids, default_tags, assume_role, endpoints, ...), checks what
// can be checked without AWS, records what it was given, and defines no resources (its
// one data source, aws_tfgen_rehearsal, reports the configuration): the stand-in modules
// of a rehearsal hold their inputs in terraform_data.
//
// It never talks to AWS or any other network service.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"math/big"
	"os"
	"regexp"
	"sort"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	dsschema "github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// Version is the stand-in's own version (tfgen keys its build by a hash of the sources).
var Version = "0.1.0-rehearsal"

// LogEnv names the file the provider appends one JSON line per configuration to.
const LogEnv = "TFGEN_REHEARSAL_PROVIDER_LOG"

// endpointServices are the endpoints block attributes accepted (a subset of the real
// provider's several hundred: the services a platform tree commonly points elsewhere).
var endpointServices = []string{
	"acm", "apigateway", "autoscaling", "cloudformation", "cloudfront", "cloudwatch",
	"cloudwatchlogs", "dynamodb", "ec2", "ecr", "ecs", "efs", "eks", "elasticache", "elb",
	"elbv2", "events", "iam", "kinesis", "kms", "lambda", "logs", "rds", "route53", "s3",
	"s3control", "secretsmanager", "sns", "sqs", "ssm", "sts",
}

var accountID = regexp.MustCompile(`^\d{12}$`)
var roleARN = regexp.MustCompile(`^arn:aws[a-z-]*:iam::(\d{12}):role/.+$`)

type standIn struct{}

func (p *standIn) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "aws"
	resp.Version = Version
}

func stringSet() schema.SetAttribute {
	return schema.SetAttribute{ElementType: types.StringType, Optional: true}
}

func (p *standIn) Schema(_ context.Context, _ provider.SchemaRequest, resp *provider.SchemaResponse) {
	endpoints := map[string]schema.Attribute{}
	for _, name := range endpointServices {
		endpoints[name] = schema.StringAttribute{Optional: true}
	}
	str := schema.StringAttribute{Optional: true}
	boolean := schema.BoolAttribute{Optional: true}
	resp.Schema = schema.Schema{
		Description: "tfgen rehearsal stand-in for hashicorp/aws: accepts the configuration, manages nothing.",
		Attributes: map[string]schema.Attribute{
			"region":                      str,
			"profile":                     str,
			"access_key":                  str,
			"secret_key":                  schema.StringAttribute{Optional: true, Sensitive: true},
			"token":                       schema.StringAttribute{Optional: true, Sensitive: true},
			"allowed_account_ids":         stringSet(),
			"forbidden_account_ids":       stringSet(),
			"shared_config_files":         schema.ListAttribute{ElementType: types.StringType, Optional: true},
			"shared_credentials_files":    schema.ListAttribute{ElementType: types.StringType, Optional: true},
			"max_retries":                 schema.Int64Attribute{Optional: true},
			"retry_mode":                  str,
			"sts_region":                  str,
			"skip_credentials_validation": boolean,
			"skip_metadata_api_check":     str,
			"skip_region_validation":      boolean,
			"skip_requesting_account_id":  boolean,
			"s3_use_path_style":           boolean,
			"insecure":                    boolean,
		},
		Blocks: map[string]schema.Block{
			"default_tags": schema.ListNestedBlock{
				NestedObject: schema.NestedBlockObject{Attributes: map[string]schema.Attribute{
					"tags": schema.MapAttribute{ElementType: types.StringType, Optional: true},
				}},
			},
			"ignore_tags": schema.ListNestedBlock{
				NestedObject: schema.NestedBlockObject{Attributes: map[string]schema.Attribute{
					"keys":         stringSet(),
					"key_prefixes": stringSet(),
				}},
			},
			"assume_role": schema.ListNestedBlock{
				NestedObject: schema.NestedBlockObject{Attributes: map[string]schema.Attribute{
					"role_arn":            str,
					"session_name":        str,
					"external_id":         str,
					"duration":            str,
					"policy":              str,
					"policy_arns":         stringSet(),
					"source_identity":     str,
					"tags":                schema.MapAttribute{ElementType: types.StringType, Optional: true},
					"transitive_tag_keys": stringSet(),
				}},
			},
			"endpoints": schema.ListNestedBlock{
				NestedObject: schema.NestedBlockObject{Attributes: endpoints},
			},
		},
	}
}

// plain turns a configuration value into JSON-friendly Go values (unknown: "(unknown)").
func plain(v tftypes.Value) any {
	if !v.IsKnown() {
		return "(unknown)"
	}
	if v.IsNull() {
		return nil
	}
	t := v.Type()
	switch {
	case t.Is(tftypes.String):
		var s string
		_ = v.As(&s)
		return s
	case t.Is(tftypes.Bool):
		var b bool
		_ = v.As(&b)
		return b
	case t.Is(tftypes.Number):
		var n big.Float
		_ = v.As(&n)
		f, _ := n.Float64()
		return f
	case t.Is(tftypes.List{}), t.Is(tftypes.Set{}), t.Is(tftypes.Tuple{}):
		var items []tftypes.Value
		_ = v.As(&items)
		out := make([]any, 0, len(items))
		for _, item := range items {
			out = append(out, plain(item))
		}
		return out
	default: // map or object
		var fields map[string]tftypes.Value
		_ = v.As(&fields)
		out := map[string]any{}
		for name, item := range fields {
			if item.IsKnown() && item.IsNull() {
				continue
			}
			out[name] = plain(item)
		}
		return out
	}
}

func stringList(v any) []string {
	items, _ := v.([]any)
	out := []string{}
	for _, item := range items {
		if s, ok := item.(string); ok {
			out = append(out, s)
		}
	}
	sort.Strings(out)
	return out
}

// check reports what the real provider would refuse before it reaches AWS.
func check(config map[string]any) []string {
	var problems []string
	region, _ := config["region"].(string)
	if region == "" {
		problems = append(problems, "region is not set: the AWS provider needs a region")
	}
	allowed := stringList(config["allowed_account_ids"])
	forbidden := stringList(config["forbidden_account_ids"])
	if len(allowed) > 0 && len(forbidden) > 0 {
		problems = append(problems, "allowed_account_ids and forbidden_account_ids conflict")
	}
	for _, id := range append(append([]string{}, allowed...), forbidden...) {
		if !accountID.MatchString(id) {
			problems = append(problems, fmt.Sprintf("account id %q is not 12 digits", id))
		}
	}
	roles, _ := config["assume_role"].([]any)
	if len(roles) > 1 {
		problems = append(problems, "at most one assume_role block")
	}
	for _, r := range roles {
		role, _ := r.(map[string]any)
		arn, _ := role["role_arn"].(string)
		if arn == "" {
			continue
		}
		m := roleARN.FindStringSubmatch(arn)
		if m == nil {
			problems = append(problems, fmt.Sprintf("assume_role.role_arn %q is not an IAM role ARN", arn))
			continue
		}
		if len(allowed) > 0 && !contains(allowed, m[1]) {
			problems = append(problems, fmt.Sprintf(
				"assume_role.role_arn is in account %s, not in allowed_account_ids [%s]",
				m[1], strings.Join(allowed, ", ")))
		}
		if contains(forbidden, m[1]) {
			problems = append(problems, fmt.Sprintf("assume_role.role_arn is in forbidden account %s", m[1]))
		}
	}
	if tags, ok := config["default_tags"].([]any); ok && len(tags) > 1 {
		problems = append(problems, "at most one default_tags block")
	}
	return problems
}

func contains(list []string, item string) bool {
	for _, x := range list {
		if x == item {
			return true
		}
	}
	return false
}

func record(config map[string]any, problems []string) {
	path := os.Getenv(LogEnv)
	if path == "" {
		return
	}
	dir, _ := os.Getwd()
	line, err := json.Marshal(map[string]any{"dir": dir, "config": config, "problems": problems})
	if err != nil {
		return
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return
	}
	defer f.Close()
	_, _ = f.Write(append(line, '\n'))
}

func (p *standIn) Configure(_ context.Context, req provider.ConfigureRequest, resp *provider.ConfigureResponse) {
	config, _ := plain(req.Config.Raw).(map[string]any)
	if config == nil {
		config = map[string]any{}
	}
	problems := check(config)
	record(config, problems)
	for _, problem := range problems {
		resp.Diagnostics.AddError("Invalid AWS provider configuration (tfgen rehearsal)", problem)
	}
	resp.DataSourceData = config
}

func (p *standIn) Resources(_ context.Context) []func() resource.Resource { return nil }

func (p *standIn) DataSources(_ context.Context) []func() datasource.DataSource {
	return []func() datasource.DataSource{func() datasource.DataSource { return &configuration{} }}
}

// configuration is the data source aws_tfgen_rehearsal: the region and account ids the
// provider was configured with. A stand-in module reads it, so OpenTofu must configure
// the provider (it configures none that nothing uses).
type configuration struct{ config map[string]any }

type configurationModel struct {
	Region            types.String `tfsdk:"region"`
	AllowedAccountIDs types.List   `tfsdk:"allowed_account_ids"`
	AssumeRoleARN     types.String `tfsdk:"assume_role_arn"`
}

func (d *configuration) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_tfgen_rehearsal"
}

func (d *configuration) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = dsschema.Schema{
		Description: "The configuration of tfgen's stand-in AWS provider.",
		Attributes: map[string]dsschema.Attribute{
			"region":              dsschema.StringAttribute{Computed: true},
			"allowed_account_ids": dsschema.ListAttribute{ElementType: types.StringType, Computed: true},
			"assume_role_arn":     dsschema.StringAttribute{Computed: true},
		},
	}
}

func (d *configuration) Configure(_ context.Context, req datasource.ConfigureRequest, _ *datasource.ConfigureResponse) {
	if config, ok := req.ProviderData.(map[string]any); ok {
		d.config = config
	}
}

func (d *configuration) Read(ctx context.Context, _ datasource.ReadRequest, resp *datasource.ReadResponse) {
	region, _ := d.config["region"].(string)
	role := ""
	if roles, ok := d.config["assume_role"].([]any); ok && len(roles) > 0 {
		if first, ok := roles[0].(map[string]any); ok {
			role, _ = first["role_arn"].(string)
		}
	}
	ids, diags := types.ListValueFrom(ctx, types.StringType, stringList(d.config["allowed_account_ids"]))
	resp.Diagnostics.Append(diags...)
	state := configurationModel{Region: types.StringValue(region), AllowedAccountIDs: ids,
		AssumeRoleARN: types.StringValue(role)}
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

func main() {
	var debug bool
	flag.BoolVar(&debug, "debug", false, "run with support for debuggers")
	version := flag.Bool("version", false, "print the version and exit")
	flag.Parse()
	if *version {
		fmt.Println(Version)
		return
	}
	err := providerserver.Serve(context.Background(), func() provider.Provider { return &standIn{} },
		providerserver.ServeOpts{Address: "registry.opentofu.org/hashicorp/aws", Debug: debug})
	if err != nil {
		log.Fatal(err)
	}
}
