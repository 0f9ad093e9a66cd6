"""Cue patterns of the rules planner, matched against the repaired (lower-case) message.

Each table maps a label to regular expressions. Intent cues are request-shaped (verbs and
questions), not bare nouns, so "my trained model" does not ask for training.
"""

from __future__ import annotations

import re

from tensor_agent.planner.fastre import FastPattern, compile_fast


def _c(*patterns: str) -> list[FastPattern]:
    return [compile_fast(p) for p in patterns]


_MODEL = r"(?:model|architecture|network|net|backbone|classifier|regressor|detector|encoder|family|approach|setup)"
# What "design" can be about that is not an architecture: experiments, tests and protocols.
_EXPERIMENT = (r" (?:(?:the|an?|our|my|a proper|a good|a fair|a rigorous|a sound) )?(?:[\w-]+ )?"
               r"(?:a/b|ab tests?|experiments?|ablations?|study|studies|protocols?|validation|evaluation|hold-?outs?|backtest\w*|"
               r"benchmarks?|tests?|trials?|metrics?|surveys?|splits?|cross-validation|eval\b|rollout|canary|comparisons?|bake-?offs?|head-to-heads?|"
               r"shadow(?:[- ]deployment)? (?:tests?|experiments?|runs?)|(?:[\w-]+ )?(?:experiment|testing|evaluation|validation) (?:plan|scheme|setup))")
_TRACKER = r"(?:mlflow|w ?& ?b|wandb|weights (?:&|and) biases|neptune(?:\.ai)?)\b"
# What "design" can be about that is a hyperparameter search ("design a sweep").
_SEARCH_OBJECT = (r" (?:(?:the|an?|our|my) )?(?:[\w-]+ )?(?:hyper-?param\w* )?(?:sweeps?|searche?s?|hpo|tuning (?:runs?|jobs?|study))\b")
# Things people "build", "make" or "give me" that are not a model.
_NOT_A_MODEL = (r" (?:[\w./-]+ ){0,2}(?:steps|manifests?|commands?|instructions|list|overview|summary|plan|learning curves?|cross-validated|estimates?|a/b tests?|ab tests?|experiments?|ablations?|backtests?|canary|studies|proofs?|derivations?|explanations?|intuition|breakdown|rundown|walkthrough|answer|maths?|ya?ml|dockerfiles?|pipelines?|"
                r"images?|containers?|endpoints?|apis?|servers?|services?|reports?|docs?|charts?|sweeps?|(?:hyper-?param\w*|random|grid|bayesian|optuna|hp|lr) search|dashboards?|comparison|table|"
                r"hpo|study|studies|optuna|\.?mar|archives?|handlers?|helm|torch-?serve|kserve|modules?|classes|layers?|rates?|lrs?|hyper-?param\w*|"
                r"dropout|settings|validation|evaluation|cross-validation|eval|backtest\w*|test harness|splits?|"
                r"(?:keras |pytorch |jax |flax |tensorflow |torch )?(?:version|port|implementation|code|snippet)|cop(?:y|ies)|variant|clone)\b")
_DEVICE = (r"(?:mobile|phones?|smartphones?|android|ios|iphones?|edge|devices?|raspberry(?: pi)?|jetson|"
           r"microcontrollers?|mcus?|cortex-m\d*|pixel \d+\w*|galaxy s\d+|stm32|esp32|embedded|browser|wasm|cpu|laptop|on-device|tablet|wearables?|smart ?watch(?:es)?|iot|"
           r"drones?(?! (?:footage|images?|photos?|imagery|videos?|shots|surveys?|pictures?|inspection)))")

# "the 5-year hourly history of demand": a time series, not the history of past runs.
_TIME_HISTORY_NOT = "".join(f"(?<!{w} history)" for w in ("hourly", "daily", "weekly", "monthly", "yearly", "quarterly", "-year", "-month", "-week", "-day"))
_TIME_HISTORY = "(?:" + "|".join(f"(?<={w} )" for w in ("hourly", "daily", "weekly", "monthly", "yearly", "quarterly", "-year", "-month", "-week", "-day")) + r")history\b"

INTENT_CUES: dict[str, list[re.Pattern[str]]] = {
    "design": _c(
        r"\bdesign(?:s|ing)?\b(?! (?:doc|choices? (?:i|we) made)|" + _EXPERIMENT + r"|" + _SEARCH_OBJECT + r")",
        r"\bre-?design\b",
        r"\barchitect(?:ing)?\b",
        r"\b(?:what|which) (?:kind of |type of |sort of )?(?:\w+ ){0,2}(?:model|architecture|network|backbone|family|approach)s?\b(?! (?:have|has|did|worked|won|performed|scored|was|were|we|did|gave|got|reached|achieved|produced|is our))",
        r"\bwhat (?:should|would|could|do you recommend) (?:i|we) (?:build|use|try|pick|choose|go with)\b",
        r"\brecommend(?:s|ed)?\b(?! system)|\b(?:your|a|any) recommendations?\b|\brecommendations? (?:for|on) (?:a |an |the )?(?:\w+ )?(?:model|architecture|network|approach)", r"\bsuggest(?:ion)?s?\b(?! (?:\w+ )?(?:features|metrics|ways to clean|cleaning|preprocessing|augmentations?|fix|fixes|remed\w+|workarounds?|changes?|tweaks?|ways?|reasons?|causes?))", r"\bpropos(?:e|al)\b",
        r"\b(?:choose|pick|select|decide on)\b(?! (?:a |the )?(?:learning rate|metric|optimizer|(?:decision |classification |operating )?(?:threshold|cut-?off|operating point))|(?: the| a few| some)?(?: useful| relevant| best| important| top)? (?:features|columns|variables)\b)", r"\bwhich one and why\b",
        r"\bbest (?:\w+ ){0,2}" + _MODEL + r"s? for\b",
        r"\b(?:build|create|set up|come up with|sketch|put together|assemble|give me|construct|draft)(?: me)? (?:a|an|the|some|my|something)\b"
        r"(?!" + _NOT_A_MODEL + r")", r"\bmake (?:me )?(?:a|an)\b(?! (?:\w+ )?(?:faster|smaller|lighter)|" + _NOT_A_MODEL + r")",
        r"\bneed (?:a|an) (?!(?:[\w-]+ )?(?:dockerfile|container|manifest|endpoint|api|pipeline|image|helm)s?\b)(?:\w+ ){0,3}" + _MODEL + r"\b",
        r"\b(?:want|need|looking for|after|would like) (?:a|an|some) (?:(?!(?:for|of|to|with|in|on|from|that|which)\b)[\w-]+ ){0,3}(?:router|classifier|detector|model|forecaster|tagger|recommender|predictor|regressor|ranker|generator|chat ?bot|segmenter|network|net|baseline|solution|approach|system that|tool that|thing that)\b",
        r"\b(?:we|i) (?:need|want|have|would like|'d like) to (?:automatically )?(?:match|classify|predict|detect|rank|forecast|segment|recogni[sz]e|tag|sort|route|flag|identify|spot|cluster|recommend|categori[sz]e|triage|score|transcribe|caption|summari[sz]e|translate|generate|count|track objects)\b",
        r"^\W*(?:please |pls |can you |could you )?(?:predict|forecast|classify|detect|segment|recogni[sz]e|rank|identify|spot|sort|triage|count|cluster|group|match|transcribe|caption|colou?ri[sz]e|tell apart|categori[sz]e|denoise|deblur|restore|upscale)\b",
        r"\b(?:model|system|classifier|network|tool) (?:needs|has|should|must|is supposed) to (?:decide|tell|classify|detect|predict|flag|recogni[sz]e|determine|figure out|spot|rank|sort)\b",
        r"\bcan (?:we|you|i|one) (?:reliably |accurately )?(?:predict|forecast|classify|detect|tell|spot|flag|recogni[sz]e|anticipate|segment|identify)\b(?! (?:me\b|us\b|whether|if|which))",
        r"\bblueprint\b", r"\b(?:build|design|create|make) (?:and|&) (?:then )?(?:train|fit|tune|deploy)\b", r"\blayer (?:layout|config)", r"\bhow (?:should|would|do) (?:i|we) (?:structure|build|set up)\b",
        r"\bwhat should (?:i|we) use\b", r"\bwhat (?:would|do) you use\b", r"\bwhat (?:would|should|do) you (?:do|recommend|suggest|pick|choose|go with)\b",
        r"\bwhat to use\b", r"(?<!lr )(?<!rate )(?<!size )(?<!dropout )(?<!decay )(?<!split )(?<!splits )(?<!metric )(?<!metrics )(?<!loss )(?<!schedule )\bshould (?:i|we) (?:use|go with|pick|try)\b(?! (?:it|this|that|them|these|those|first|next)\b| (?:the |a )?(?:decision |classification )?(?:threshold|cut-?off|metric|split|learning rate|lr|batch size)s?\b)", r"\bany (?:ideas|suggestions)\b", r"\bideas\?",
        r"\bwhat (?:would|could|might|will) (?:work|suit|fit)\b", r"\bwould suit\b", r"\bgood starting point\b",
        r"\bdoes (?:that|this|it) (?:make sense|sound right)\b",
    ),
    "implement": _c(
        r"\bimplement(?:s|ed|ing|ation)?\b",
        r"\bwrite (?:me )?(?:the |some |a |an |out )?(?:\w+ ){0,3}(?:code|module|class|implementation|script|layer|snippet|model)\b",
        r"\bcode (?:up|it|this|that|a|an|the)\b", r"\bcode for\b",
        r"\b(?:pytorch|python|torch) (?:code|implementation|module|snippet|class|version)\b",
        r"\bin (?:pure |plain )?(?:pytorch|torch)\b",
        r"\bgive me (?:the |some )?code\b", r"\b(?:give|write|show|send|share|need|want)\w* (?:me )?(?:a |the |some )?(?:[\w-]+ )?snippet\b|\bsnippets? (?:for|of|that)\b", r"\b(?:show|give|write|send|need|want)\w* (?:me |us )?(?:a |an |the |some )?(?:[\w-]+ ){0,2}(?:pytorch|keras|jax|flax|tensorflow|torch|numpy) (?:[\w-]+ ){0,2}(?:layers?|modules?|class|model|implementation|code|blocks?)\b",
        r"\bscaffold(?:ing)?\b", r"\bboilerplate\b",
        r"\bfrom scratch in\b", r"\brunnable\b", r"\b(?:look|looks|written|write it|it) in code\b", r"\bshow me (?:the |some )?code\b",
        r"\b(?:need|want) (?:the |some )?code\b", r"\b(?:keras|jax|flax|tensorflow|pytorch|torch|sklearn|scikit-learn) (?:version|port|implementation|code|equivalent)\b",
        r"\bport (?:it|this|that|the [\w-]+|my [\w-]+) (?:model )?(?:to|into) (?:keras|jax|flax|pytorch|tensorflow)\b",
        r"\b(?:translat\w*|convert\w*|rewrit\w*|port\w*|mov\w*|migrat\w*) (?:it|this|that|them|(?:the|my|our) (?:[\w-]+ ){0,3}(?:model|cnn|net|network|code|layer|module|implementation|[\w-]+)) (?:over )?(?:in)?to (?:plain |pure )?(?:pytorch|keras|jax|flax|tensorflow|torch)\b", r"\bcode only\b|\bonly (?:the )?(?:model )?code\b|\bjust (?:the )?code\b",
        r"\bwrite (?:a|an|the|me)\b(?! (?:[\w-]+ ){0,2}(?:pipelines?|manifests?|dockerfiles?|yaml|config\w*|helm|specs?|handlers?|archives?|charts?|deployments?|services?|endpoints?|readme|reports?|summary|docs?|documentation|emails?|paper|blog|posts?|tests?|plan|proposal)\b)",
    ),
    "train": _c(
        r"(?<!aware )(?<!-aware )(?<!post-)(?<!post )(?<!between )(?<!once )(?<!after )(?<!until )(?<!before )(?<!while )(?<!when )(?<!last )(?<!previous )(?<!latest )(?<!earlier )(?<!prior )(?<!that )(?<!this )(?<!of )(?<!during )(?<!appear in )(?<!appears in )(?<!used in )(?<!seen in )(?<!present in )(?<!included in )\b(?:re-?|pre-?)?train(?:s|ing)?\b(?! ?(?:and|&|/|vs\.?) ?(?:test|val|validation|dev|eval)\b)(?! ?\d{4}\b)(?!(?:ed|able|/| (?:data|set|sets|split|samples|examples|images|corpus|curves?|loss|labels?|distribution|text|tokens|"
        r"runs?|jobs?|scripts?|loop|logs?|metrics|history|recipe|config\w*|time|budget|costs?|speed|dynamics|stability|ones|one|photos|rows|portion|part|folds?|steps?|phase)\b|"
        r"(?:ing)? (?:is|was|has been|'s|got|finished|completed|ended) (?:done|finished|complete|completed|over|running|stuck|\w+ed)?))",
        r"\bfit (?:something|one) (?:to|for|on|that)\b", r"\b(?:re-?)?fit (?:a|an|the|my|this|it|them|some)?\s*(?:[\w-]+ ){0,3}(?:model|classifier|regressor|xgboost|network|mlp|cnn|gbm)\b",
        r"\brun (?:a |the )?(?:training|experiment)s?\b", r"\btry (?:an? |the )?[\w-]+ instead\b", r"\bre-?run (?:the |that |this )?(?:best |winning |same |top )?(?:config\w*|setup|settings|training|recipe)\b", r"\blearn (?:a|an) (?:model|classifier|mapping)\b",
        r"\b(?:start|kick(?:ing)? off|launch|run|do|begin|schedule|fire off|trigger)\w* (?:a |the |another |new |one more )?(?:[\w-]+ )?training(?: runs?| jobs?)?\b",
        r"\bteach (?:a|an|the|my|our) (?:[\w-]+ )?(?:model|network|classifier|net)\b",
        r"\b(?:could|can|should|would|will|must|needs? to|has to|have to) (?:[\w'-]+ ){0,4}be (?:re-?)?trained\b",
        r"\breproduc\w* (?:the |our |my |that |this )?(?:[\w'-]+ ){0,4}(?:run|training|experiment|result)s?\b",
        # "drop the empty rows before training the xgboost": a step before the training that is asked for too
        r"\bbefore (?:re-?)?training (?:the|a|an|my|our|this) [\w-]+",
        # "I want a ConvNeXt trained on ...", "need an xgboost model trained by Friday": wanted in a trained state.
        r"\b(?:want|need|like|get|have)\w* (?:(?:a|an|the|my|our|this|that|some) (?:[\w-]+ ){1,4}|(?:it|them|this|that) )(?:re-?)?trained\b"
        r"(?! (?:model|network|net|weights|checkpoint|backbone|encoder|classifier|version|one|copy)s?\b)",
    ),
    "tune": _c(
        r"\bhyper-?param(?:eter)?s? (?:search|tuning|sweeps?|optimi[sz]ation|opt|scan|study)\b",
        r"\b(?:search|sweep|scan)\w* (?:over |through |for )?(?:the |its |my |our |good |better )?(?:best )?(?:hyper-?param\w*|learning rates?|lrs?\b|dropout|batch sizes?|weight decay)",
        r"(?<!fine-)(?<!fine )\btun(?:e|es|ing)\b (?:(?:only |just )?(?:the |its |my |our |all |some |a few |these |their )?(?:[\w-]+ ){0,2})?(?:hyper-?param\w*|learning rates?|lrs?\b|dropout|batch sizes?|weight decay|l1|l2|regulari[sz]ation|momentum|knobs|settings|params|parameters|config\w*|"
        r"(?:lora )?(?:ranks?|r|alpha)\b|max[_ ]depth|depth|eta|n_estimators|temperature|warm-?up|epochs)",
        r"(?<!fine-)(?<!fine )\btune (?:it|this|that|them)\b(?! (?:for|to|on) (?:my|our|the|a|an|this) )", r"\bauto-?tun\w*",
        r"(?<!fine-)(?<!fine )(?<!pre-)\btun(?:e|es|ing)\b(?= (?:up )?(?:a|an|the|my|our|this|that|these|those|existing|its|their|first|everything|and|then|it|them)\b|\s*[,.;:!?]|\s*$|\s+\d+[.)])",
        r"(?<!rerun the )(?<!re-run the )(?<!with the )(?<!use the )(?<!using the )(?<!from the )(?<!apply the )\bbest (?:lr|learning rates?|hyper-?param\w*|dropout|batch sizes?|weight decay|settings|config\w*|combination)\b",
        r"\bsearch (?:for (?:it|them|the best|good|better)|(?:over|through|across) (?:the |a |its )?(?:[\w'-]+ )?(?:lrs?|learning rates?|hyper\w*|dropout|batch sizes?|depths?|widths?|values|params|parameters|configs?|configurations|grid|space|ranges?|settings|[{\[]))",
        r"\b(?:better|good|optimal|best|right|ideal) hyper-?param\w*", r"\b(?:look|search|hunt)\w* for (?:better |good |the best |optimal )?hyper-?param\w*", r"\boptimi[sz]\w* (?:the |its |my |our |all )?hyper-?param\w*", r"\b(?:optimi[sz]\w*|improv\w*|find\w*|search\w*|tweak\w*|adjust\w*) (?:[\w'-]+ ){1,6}hyper-?param\w*",
        r"\boptuna\b", r"\b(?:bayesian|random|grid) (?:hyper-?parameter )?search\b", r"\bhyperband\b", r"\btpe\b", r"\basha\b",
        r"\bhpo\b", r"(?<!'s )(?<!the last )(?<!from the )(?<!of the )(?<!previous )(?<!earlier )(?<!last )\bsweeps?\b", r"\bray tune\b", r"\b(?:run|do|start|launch|kick off)\w* (?:a |an )?(?:quick |small |big )?(?:hyper-?param\w* )?(?:search|sweep)\b",
        r"\b(?:what|which) (?:[\w-]+ ){0,3}(?:lr|learning rate|batch size|dropout|weight decay|hyper-?param\w*|optimizer settings)s? (?:(?:and|or) (?:[\w-]+ ){0,3})?(?=should (?:i|we) (?:use|pick|set|choose))",
        r"\b(?:find|pick|get|choose|select|determine|give|tell|suggest|recommend|show)\w* (?:me |us )?(?:the )?(?:best|optimal|right|good|ideal) (?:[\w-]+ )?(?:learning rates?|lrs?\b|hyper-?param\w*|dropout|batch sizes?|weight decay|settings|config\w*|combination)",
        r"\b\d+ (?:optuna |search |random |tpe )?trials\b", r"\b\d+-trials?\b",
        r"\b(?:try|test|run|evaluate|compare|explore)\w* (?:\d+|a (?:few|dozen|bunch of)|several|many) (?:different |random )?(?:configs?|configurations|settings|combinations|variants|learning rates)\b",
    ),
    "deploy": _c(
        r"\bdeploy(?:s|ing)?\b(?!ed)", r"\bdeployment (?:manifests?|pipelines?|config\w*|packages?|yaml|spec|files?|targets?)\b",
        r"\bre-?deploy\w*",
        r"\bserv(?:e|ing) (?:it|this|that|them|the (?:\w+ )?model|my (?:\w+ )?model|our (?:\w+ )?model|predictions|the classifier)\b",
        r"\bserv(?:e|ing) (?:[\w-]+ ){0,3}(?:with|via|through|behind|over|using|from|in|on) (?:a |an |the )?(?:torch-?serve|tf[- ]?serving|tensorflow serving|kserve|docker|kubernetes|k8s|http|rest|grpc|fastapi|flask|endpoint|api|containers?)\b",
        r"\b(?:run|start|launch|spin up|serve|host)\w* (?:it|this|that|the (?:[\w-]+ )?model|my (?:[\w-]+ )?model) "
        r"(?:locally|on localhost|on my (?:machine|laptop|computer))\b",
        r"\bcontaineri[sz]\w*", r"\bmake (?:it|this|them|the (?:[\w-]+ ){0,2}model|our (?:[\w-]+ ){0,2}model) available\b", r"\bover (?:http|https|rest|grpc|an api)\b", r"\bserv(?:e|ing) (?:both|all|the two|two|multiple|several)\b", r"\bsplit (?:the )?traffic\b|\btraffic split\b", r"\b(?:put|package|wrap|bundle|ship|pack|run|bake)\w* (?:[\w-]+ ){0,4}(?:in|into|inside|as) (?:a |an )?(?:docker )?containers?\b", r"\bdocker\w*", r"\btorch-?serve\b", r"\btf[- ]?serving\b", r"\btensorflow serving\b",
        r"\bk-?serve\b", r"\bkfserving\b", r"\binferenceservice\b", r"\bkubernetes\b", r"\bk8s\b", r"\bkubeflow\b", r"\bhelm\b",
        r"\bship (?:it |this |that |the model |my model |our model )?(?:to|into) (?:production|prod)\b", r"\bship(?: it| this| that| them)?\s*(?:[.!?;]|$)",
        r"\b(?:put|push|move|get|take|roll|ship|bring)\w* (?:[\w-]+ ){0,4}(?:out )?(?:in|into|to) (?:production|prod)\b",
        r"\bexpos(?:e|ing) (?:[\w-]+ ){0,4}(?:as|via|through|behind|with|over) (?:an? |the )?(?:rest |http |grpc |web )?(?:api|endpoint|service|server)\b",
        r"\bas (?:an? )?(?:rest |http |grpc |web )?(?:api|endpoint|(?:web |micro)service)\b",
        r"\bproductioni[sz]\w*", r"\bgo live\b",
        r"\b(?:http|rest|grpc|inference|prediction|serving|model) (?:endpoints?|apis?|servers?|services?)\b",
        r"\b(?:an?|the) endpoint\b", r"(?:/\w+|\bpredict|\bprediction|\binference|\bscoring) endpoints?\b", r"\bin front of (?:the |our |my )?(?:[\w-]+ )?model\b", r"\bfastapi\b", r"\bbentoml\b", r"\bseldon\b", r"\bmlflow models? serve\b",
        r"\bmanifests?\b", r"\bpipeline (?:for|on|in) (?:kubeflow|kfp|vertex)\b", r"\bkfp\b", r"\broll(?:ing)? (?:it |this |them |the (?:[\w-]+ ){0,3}model )?out\b(?! (?:of|a|an)\b)", r"\b\d+ ?% of (?:the |our )?traffic\b",
    ),
    "track": _c(
        r"\b(?:to|in|into|with|via|using|on|through|under) (?:an? |the |our |my )?" + _TRACKER + r"(?! models? serve)",
        _TRACKER + r" (?:tracking|logging|registry|model registry|experiments?|project|dashboard|ui|autolog\w*)\b",
        r"\b(?:track|log|record)\w* (?:[\w'-]+ ){0,8}(?:in|to|with|into) " + _TRACKER,
        r"\blog(?:s|ging)? (?:it|this|that|them|the runs?|runs?|the metrics|metrics|everything|the experiments?|experiments?|results|the results|the training|training|params|parameters|artifacts)\b",
        r"\blog\w* (?:[\w-]+ ){0,4}(?:to|in|into|with) (?:mlflow|w&b|wandb|neptune|the tracker|the tracking server)\b",
        r"\bregist(?:er|ers|ering)\b", r"\b(?:an?|as (?:an?|the)?) (?:mlflow )?registered model\b", r"\broll (?:[\w.-]+ ){1,3}back\b", r"\bregistered (?:as|under|in|with|to)\b", r"\b(?:get|have|want|need)\w* (?:it|this|that|them|the model) registered\b",
        r"\b(?:publish|push|add|upload|save|put|log|send)\w* (?!(?:the |a |our |my )?(?:docker |container )?images?\b)(?:[\w-]+ ){0,4}(?:to|in|into) (?:the |our |my |a )?(?:mlflow )?(?:model )?registry\b", r"\b(?:model|mlflow) registry\b", r"\bversion (?:it|this|that|them|(?:the|my|our) (?:[\w-]+ ){0,2}(?:model|classifier|network|checkpoint)s?)\b",
        r"\bnew (?:model )?version\b", r"\balias\w*", r"\bpromot(?:e|ing) (?:[\w-]+ ){0,3}(?:to|as) (?:production|prod|staging|champion)\b",
        r"\bpromot(?:e|ing) (?:it|this|the model|v\d+|version \d+)\b",
        r"\broll(?:ing)?[- ]?back\b", r"\brollback\b", r"\bcompar(?:e|ing) (?:[\w-]+ ){0,4}(?:runs|run ids|model versions|versions)\b",
        r"\bexport\w* (?:[\w-]+ ){0,4}to (?:w ?& ?b|wandb|mlflow|neptune)\b",
        r"\bexperiment tracking\b", r"\btrack (?:the |my |our |all |this |these )?(?:experiments?|runs?|metrics|training)\b",
        r"\barchiv(?:e|ing) (?:the |old |versions? |v\d|(?:every|all|each|any) (?:old(?:er)? )?(?:versions?|models?|runs?))", r"\bchampion\b", r"\bstaging\b", r"\bkeep track of\b",
        r"\b(?:mark|tag|label|set|move|flag)\w* (?:[\w-]+ ){0,4}(?:as|to) (?:production|prod|staging|champion|challenger)\b",
        r"\btag (?:it|this|the (?:[\w-]+ ){0,2}(?:model|run)|v\d+|version \d+)\b",
        r"\brevert\w* (?:to|back)\b", r"\brestore (?:the )?(?:previous|old|last|earlier) (?:model )?version\b",
        r"\b(?:list|show|see|display|print|view|enumerate)\w* (?:me )?(?:all )?(?:the |my |our |its )?(?:[\w-]+ ){0,3}(?:model )?versions\b",
        r"\b(?:list|show|see|display|print|view)\w* (?:me )?(?:all )?(?:the |my |our )?registered\b",
        r"\b(?:what|which|how many) (?:model )?versions? (?:of (?:[\w-]+ ){1,3})?(?:are|is|do|does|did|have|has|exist)\b",
        r"\b(?:are|is|was|were|got|been|get|gets) (?:[\w-]+ ){0,3}registered\b", r"\bversion history\b", r"\b(?:between|compare|diff\w*) (?:run|version|v)\s*[\w-]+ (?:and|with|to|vs\.?|versus) (?:run|version|v)\s*[\w-]+", r"\b(?:which|what) run (?:had|has|got|gave|was|reached|scored)\b", r"\b(?:which|what) (?:of (?:the |my |our |these |those )?)?(?:last |latest |recent )?(?:\d+ |few |two |three |four |five )?(?:runs|experiments)\b", r"\b(?:graph|plot|chart|visuali[sz]e)\w* (?:of |for )?(?:the |my |our |all )?(?:last |latest |recent |previous |past )?(?:\d+ |[a-z]+ )?(?:runs?|experiments?|versions)'?\b", r"\b(?:runs|versions|experiments)\b (?:[\w-]+ ){0,2}compar(?:e|es|ed)\b", r"\b(?:runs|versions|experiments)\b[^.?!;]{0,20}\bside[- ]by[- ]side\b", r"\bretire (?:the |old |version |v\d)",
    ),
    "fine_tune": _c(
        r"\bfine-? ?tun\w*", r"\blora\b", r"\bunfreez\w*", r"\badapters?\b", r"\bpeft\b", r"\btransfer[- ]learning\b",
        r"\bfeature[- ]extract\w*", r"\bfreez(?:e|ing) (?:the )?(?:\w+ )?(?:backbone|encoder|layers|base|weights)\b", r"\bfreez\w* (?:everything|all|the rest)\b",
        r"\bpersonali[sz]\w* (?:it|them|(?:the|a|our|my) (?:[\w-]+ ){0,2}(?:model|network|classifier|detector|recogni[sz]er|net))\b", r"\bcustomi[sz]\w* (?:the |a |our |my )?(?:[\w-]+ ){0,2}model\b",
        r"\badapt(?:s|ing)? (?:a |an |the |my |this |it |our )?(?:[\w.-]+ ){0,3}(?:to|for)\b",
        r"\bspeciali[sz]\w* (?:a |an |the |my |our )?(?:[\w.-]+ ){0,3}(?:to|for|on)\b", r"\bdomain[- ]adapt\w*",
        r"\bdomain adaptation\b", r"\binstruction[- ]tun\w*", r"\bcontinue(?:d)? pre-?training\b",
        r"\blow-rank adaptation\b", r"\bprompt[- ]tuning\b", r"\bprefix[- ]tuning\b", r"\bretrain (?:the )?(?:last|top|head)\b(?!\s+(?:month|week|year|quarter|night|time|sprint|run)|'s)",
        r"\badapt(?:s|ing)? (?:it|this|that|them|the model|my model|our model|the network)\b",
        r"\bfrozen (?:\w+ )?(?:backbone|encoder|base|layers|features)\b", r"\b(?:new|fresh|own|custom) (?:classification |linear )?head\b",
        r"\b(?:replace|swap|retrain|train) (?:the |a |its )?(?:classification |final |last |output )?(?:head|classifier head|last layer)\b",
        r"\blinear[- ]prob(?:e|es|ed|ing)\b", r"\b(?:start|starting) from (?:a |the )?(?:pre-?trained|imagenet)\b",
        r"\b(?:re)?use (?:a |the |its )?pre-?trained\b", r"\b(?:re)?use (?:the |its |our )?imagenet (?:weights|backbone|checkpoint|model|encoder|features)\b",
        r"\bretrain\w* (?:only (?:the )?(?:classifier|head|last layers?|top layers?|final layers?)|(?:the )?(?:head|classifier head|last layers?|top layers?|final layers?))\b", r"\bwarm[- ]?start\w* (?:it |the model )?from\b",
        r"\b(?:start\w*|initiali[sz]\w*|init) (?:it |the model )?from (?:the |a |our |my |an )?(?:[\w-]+ ){0,2}(?:checkpoint|weights)\b", r"\btransfer (?:the |a |my |our |an |this )?(?:[\w-]+ ){0,3}(?:to|onto)\b",
        r"\b(?:re-?train|train|tune|update|fine-?tune)\w* (?:only )?(?:the )?(?:final|last|top|classification|output) (?:\w+ )?(?:layers?|blocks?|head)\b",
    ),
    "compress": _c(
        r"\bquantiz\w*", r"(?<!the )(?<!our )(?<!my )(?<!this )(?<!that )(?<!existing )\bint ?(?:8|4)\b|\bint ?(?:8|4)\b(?! (?:model|version|export|checkpoint|one|variant|weights)\b)", r"\b(?:8|4)[- ]?bit\b", r"(?<!with )(?<!in )(?<!using )(?<!under )\bfp16\b(?! (?:training|mixed|amp|autocast|losses|loss)\b)", r"\bhalf[- ]precision\b",
        r"(?<!with )(?<!trial )(?<!median )\bprun(?:e|ed|es|ing)\b(?! (?:of )?(?:the )?(?:bad |unpromising |poor |weak |slow |losing |hopeless )?(?:trials|ones|runs|configs|configurations))", r"\bsparsif\w*", r"\bdistill(?:s|ed|ing|ation)?\b(?!bert|gpt|roberta)",
        r"\bcompress\w*", r"\bshrink\w*", r"\bslim (?:it|down)\b",
        r"\bexport\w* (?:\w+ ){0,3}(?:to|as|for|in) (?:\w+ )?(?:onnx|tflite|coreml|core ml|torchscript|mobile|edge|ios|android|openvino|tensorrt)\b",
        r"\b(?:onnx|tflite|tensorrt|coreml|core ml|openvino|torchscript)\b",
        r"\b(?:optimiz\w*|speed(?:ing)? up|accelerat\w*)\b[^.;?!]{0,50}\b(?:inference|serving|deploy\w*|latency|throughput|on-device|" + _DEVICE + r")",
        r"\b(?:make|get|making)(?: (?:it|the model|my model|this|the network|them|the \w+|my \w+))? (?:\w+ )?(?:faster|smaller|lighter|leaner|cheaper to run)\b",
        r"\breduce (?:the |its |my |our )?(?:[\w-]+'s )?(?:model |inference |memory |gpu |ram )?(?:size|latency|memory|footprint|flops|macs)\b",
        r"\b(?:deploy\w*|ship\w*|put (?:it|this|the model|my model)|get (?:it|this) running) (?:\w+ ){0,4}(?:on|to|onto|for) (?:a |an |the |our |my )?(?:\w+ )?" + _DEVICE + r"\b",
        r"\bknowledge distillation\b", r"\bteacher[- ]student\b", r"\blottery ticket\b", r"\bsqueez\w*\b(?! (?:out )?(?:a (?:bit|little|few)|some|more|extra|the last|another|every)\b)",
        r"\b(?:to|can it|could it|will it|would it) run (?:locally |offline |fast |smoothly |in real[- ]time |at \d+(?:\.\d+)? ?(?:fps|ms|hz|frames per second) )?(?:on|in) (?:a |an |the |my |our )?(?:\w+ )?" + _DEVICE + r"\b",
        r"\b(?:need|want|bring) (?:it|this|the model|them) (?:to be )?(?:down )?(?:to |under |below |within |less than |smaller than )\d+(?:\.\d+)? ?(?:mb|kb|gb|ms)\b",
        r"\b(?:get|make|have|bring) (?:it|this|the model|them) (?:to run |run |running )?(?:down )?(?:to |under |below |within |less than |faster than )\d+(?:\.\d+)? ?(?:ms|milliseconds?)"
        r"(?: (?:per|an?) \w+)? (?:on|in) (?:a |an |the |my |our )?(?:\w+ )?" + _DEVICE + r"\b",
        r"\b(?:halve|cut|lower|decrease|shrink|improve|speed up|double)\w* (?:the |its |our |my )?(?:inference )?(?:latency|model size|memory footprint|footprint|throughput)\b",
        r"\b(?:make|making) (?:the )?inference (?:cheaper|faster|lighter)\b|\bcheaper (?:inference|to run|to serve)\b",
        r"\bget (?:it|this|the model|my model) (?:down|smaller)\b", r"\b(?:get|move|bring|port)\w* (?:it|this|the model|them) (?:onto|on|to) (?:a |the |our )?(?:\w+ )?" + _DEVICE + r"\b",
        r"\b(?:get|make|have)\w* (?:it|this|the [\w-]+(?: [\w-]+)?|my [\w-]+|our [\w-]+) (?:to )?(?:answer|respond|run|serv|infer|predict|return|reply)\w* "
        r"(?:[\w-]+ )?(?:in |under |below |within )(?:under |below |less than )?(?:\d+(?:\.\d+)? ?(?:ms|milliseconds?)|(?:a|one|half a) second)\b", r"\bdown to (?:under )?\d+(?:\.\d+)? ?(?:mb|kb|gb|ms)\b",
        r"\brun (?:it|this|that|inference|(?:the |my |our |this |a |an )?(?:[\w-]+ ){0,3}(?:model|classifier|network|detector|cnn|net|regressor|segmenter)|(?:the|my|our|this) [\w-]+) (?:locally |offline |fast |quickly )?(?:on|in) (?:a |an |the |my |our |their |users' )?(?:\w+ )?" + _DEVICE + r"\b",
        r"\b(?:can|could|will|would) (?:it|this|my|the|our) (?:[\w-]+ ){0,8}(?:run|fit) (?:on|in|into) (?:a |an |the |my |our )?(?:\w+ )?" + _DEVICE + r"\b",
        r"\b(?:get|have|make) (?:[\w-]+ ){0,5}(?:running|working|to run|run) (?:[\w-]+ )?(?:on|in) (?:a |an |the |my |our )?(?:\w+ )?" + _DEVICE + r"\b",
        r"\b(?:laggy|sluggish|(?:way |much |far )?too (?:slow|heavy|big|large|fat)\b(?! (?:a |an )?(?:data|dataset|corpus|table)))",
        r"\b(?:make|get|making) (?:[\w-]+ ){0,4}(?:small|fast|light|lean|tiny|cheap) enough\b",
        r"\bfit (?:it |this |the model )?(?:in|into|under|within) (?:\d+(?:\.\d+)? ?(?:mb|kb|gb)|memory|ram)\b", r"\bmake it fit\b",
        r"\bexport (?:it|this|that|the model|them|my model)\b(?! (?:to|as|into) (?:w ?& ?b|wandb|mlflow|neptune|docker|torch-?serve|kserve))",
        r"\bfit (?:it |this |the model )?(?:on|in|into) (?:a |an |the |my |our )?(?:\w+ )?(?:" + _DEVICE + r"|memory|ram)\b",
    ),
    "estimate_data": _c(
        r"\bhow (?:much|many) (?:\w+ ){0,3}(?:data|samples|examples|images|photos|pictures|labels|labeled|annotations|rows|records|sentences|documents|texts|instances|points|observations|clips|hours|nodes|graphs|sequences|scans|shots|tokens|reviews)\b",
        r"\bdata (?:requirements?|size|budget|needs|volume)\b", r"\bdataset size\b",
        r"\bwhat (?:accuracy|performance|f1|score|results?) (?:should|can|could|would|might|will) (?:we|i) (?:expect|get|reach|hope for)\b[^.?!]{0,40}\b(?:labels|labell?ed|examples|samples|images|data)\b",
        r"\b(?:annotation|labeling|labelling) (?:effort|time|budget|cost|workload|hours|plan)\b",
        r"\benough (?:\w+ )?(?:data|samples|examples|images|labels|training data)\b",
        r"\bestimat\w* (?:the |how )?(?:\w+ ){0,2}(?:data|dataset|samples|examples|labels|annotation|number)\b",
        r"\bminimum (?:number of |amount of )?(?:\w+ )?(?:samples|examples|data|images|labels)\b",
        r"\bsample size\b", r"\bhow long (?:will|would|does) (?:it take to )?(?:annotate|label)\b",
        r"\blearning curve\b", r"\bamount of (?:\w+ )?data\b", r"\bneed to (?:label|annotate|collect)\b",
        r"\bhow long (?:will|would|does|do) (?:the )?(?:annotation|labeling|labelling)\b",
        r"(?<!rank )(?<!alpha )(?<!r=)(?<!depth )(?<!size )\b\d[\w,.]*\s+(?!epochs|layers|heads|bits|trials|minutes|hours|gpus|steps|seeds|runs|folds|repeats|repetitions)(?:[\w-]+\s+){0,3}(?:be )?enough\b", r"\bhow (?:much|many) [^?.]{0,50}\b(?:do|would|will|should|does) (?:i|we|you|one|it) (?:\w+ )?need\b", r"\b(?:is|are|would|will) (?:that|this|it|these|those) (?:\w+ )?enough\b(?! to (?:say|claim|conclude|show|tell|trust))",
        r"\bhow (?:much|many) (?:\w+ ){0,3}(?:text|corpus|footage|audio|video)\b", r"\bhow many (?:\w+ ){0,2}per class\b",
        r"\bhow many (?:[\w-]+ ){0,3}(?:pairs|clips|frames|utterances|molecules|tickets|patients|photos|transcripts)\b",
        r"\bhow many more\b", r"\bhow many (?:[\w-]+ )?(?:would|will|does|do) (?:it|that|\d+(?:\.\d+)? ?%) (?:take|need|require)\b", r"\b(?:label|annotate|collect) (?:fewer|less)\b", r"\bwhat (?:kind of |sort of |amount of )?data (?:would|do|will|should|does) (?:we|i|it) need\b", r"\b(?:can|could|will|would) (?:the |our |a |my )?[\w-]+ (?:hit|reach|get to|achieve|make) \d+(?:\.\d+)? ?% (?:on|with|from) (?:only |just )?\d", r"\bestimat\w* (?:the |how much )?(?:[\w-]+ )?(?:gain|improvement|benefit|lift|uplift)\b", r"\b(?:will|would|does|is|could) (?:that|this|it) (?:be enough to )?(?:get|take|bring|push|move) (?:[\w-]+ ){0,4}(?:from \d+(?:\.\d+)? ?% )?to \d+(?:\.\d+)? ?%", r"\bwhat size (?:of )?(?:data ?set|dataset|corpus|training set|sample)\b", r"\bhow (?:big|large) (?:does|should|must|would|do) (?:the |my |our )?(?:training |labell?ed )?(?:data ?set|set|corpus|sample)s?\b", r"\bhow (?:much|many) (?:more )?[^?.;]{0,60}\bneed\b",
        r"\b(?:number[- ]of[- ])?(?:samples?|data|labels?|dataset)[- ](?:size )?estimate\b", r"\bnumber[- ]of[- ](?:samples|examples|images|labels|rows)\b", r"\b(?:a |the )?(?:reasonable|minimum|good|typical|realistic|sensible) number of (?:labell?ed |annotated )?(?:[\w-]+ )?(?:examples|samples|edges|nodes|images|labels|rows|graphs|clips|documents)\b",
        r"\bhow (?:many|much) (?:more )?(?:do|would|should|will) (?:i|we) (?:need to )?(?:label|annotate|collect)\b",
    ),
    "evaluate": _c(
        r"\bevaluat\w*", r"\bvalidation (?:scheme|strategy|split|protocol|approach|plan|setup)\b", r"(?<!on the )(?<!in the )(?<!on our )\bvalidation set\b",
        r"\bdesign(?:s|ing)?\b" + _EXPERIMENT, r"\bexperiment(?:al)? design\b",
        r"\bvalidat(?:e|ing) (?:my|the|it|this|our|a)\b", r"\bcross[- ]?validat\w*", r"\bk-?fold\b", r"\bper-fold\b",
        r"\b(?:which|what) (?:\w+ )?metrics?\b", r"(?<!log )(?<!and )(?<!its )(?<!the )\bmetrics? (?:should|to|for|do)\b(?! (?:mlflow|w&b|wandb|neptune))",
        r"\bbenchmark\w* (?:strategy|plan|protocol|it|my|the|them|this|against|suite|setup)\b(?!(?: (?:the|its|their))? (?:speed|latency|throughput|inference|runtime|memory|fps)\b)",
        r"\bassess\w*", r"\b(?:what|which) (?:kind of |type of )?(?:train[/-]test |validation |cv |data |test )?splits? (?:should|would|do|to|is|makes)\b", r"\b(?:is|are) (?:our|the|my|this|these) (?:[\w%.-]+ ){0,3}(?:accuracy|f1|auc|scores?|results?|numbers?|metrics?)(?: \w+)? (?:trustworthy|reliable|real|meaningful|significant|believable|legit|solid)\b", r"\bhow (?:confident|sure|certain) (?:can|should|could|may) (?:we|i) be\b", r"\bhow (?:confident|sure|certain) (?:we|i) (?:can|should|could|may) be\b",
        r"\b(?:model|version|variant|system) [a-z0-9]{1,3} (?:really |actually )?(?:beats?|outperforms?|is better than)\b", r"\b(?:is|are|was|were) (?:[\w-]+ ){0,4}as (?:accurate|good|reliable|robust|precise) as\b", r"\bcheck (?:it|them|this|that|the model) (?:properly|carefully|rigorously|thoroughly)\b", r"\b(?:set up|build|create|plan|define|choose|pick|write) (?:a |an |the |our |my )?(?:proper |good |sound |robust |fair |rigorous |honest )?(?:validation|evaluation|cross-validation|eval|backtest\w*|test(?:ing)? (?:setup|protocol|plan|harness))\b", r"\b(?:train/val(?:id(?:ation)?)?(?:/test)?|train/test|train-test|train-val(?:-test)?)(?: splits?)?\b", r"\b(?:what|how) (?:should|do|can|would|could) (?:we|i) (?:\w+ )?monitor\b", r"\bmonitor(?:ing)? (?:for )?(?:drift|degradation|decay|performance|accuracy|quality|the model|it)\b",
        r"\bto (?:know|tell|notice|detect|catch) (?:if|when|whether) (?:it|the model|performance|accuracy) (?:\w+ )?(?:degrades?|drifts?|drops?|decays?|gets worse)\b", r"\bmeasure (?:its |the |my |how )?(?:\w+ )?(?:performance|quality|accuracy|generali[sz]ation|well)\b",
        r"\btest(?:ing)? (?:strategy|plan|protocol|methodology)\b", r"\bhold-?out\b", r"\bheld-?out (?:set|split|data|test|photos|images|examples|samples|tickets|rows|nodes)\b",
        r"\breport (?:the |its |their )?(?:[\w-]+ (?:and|&|/) )?(?:top-\d|accuracy|f1|macro-f1|precision|recall|auc|metrics|scores?|mae|rmse|bleu|rouge|perplexity)\b",
        r"\benough to (?:say|claim|conclude|show|tell|trust)\b", r"\ba/b test\w*",
        r"\bhow (?:good|well) (?:is|does|are) (?:my|the|it|this|our)\b", r"\bablation\w*",
        r"\bstatistical(?:ly)? significan\w*", r"\bthreshold (?:is|isn't|was|seems|looks) (?:right|wrong|off|too (?:high|low))\b", r"\bconfusion between\b", r"\bhow (?:well|good|accurate) (?:it|the model|this|they|that) (?:will|would|might|could|can) (?:do|perform|be)\b", r"\b(?:precision-recall|pr|roc|det|calibration|reliability) (?:curves?|diagrams?)\b", r"\bmean (?:\u00b1|\+/-|\+-|and|&) ?(?:std|sd|stdev|standard deviation)\b", r"\b(?:tell me|see|check|find out|show me) which (?:one )?(?:is|was) better\b|\bwhich (?:one )?(?:is|was) better on (?:the )?(?:same|test|held|validation|val)\b", r"\b(?:test|validation|val|holdout|eval) (?:[\w-]+ )?(?:also )?(?:appears?|overlaps?|shows? up|are|is) (?:also )?in (?:the )?(?:training|train)\b", r"\b(?:swings?|varies|vary|variance|fluctuat\w*|spread|jumps?) (?:[\w\u00b1%.+-]+ ){0,4}(?:between|across|over|from) (?:the )?(?:seeds|runs|folds|splits|repeats)\b", r"\b(?:pick|choose|set|select|tune|calibrat)\w* (?:the |a )?(?:decision |classification |operating )?(?:threshold|cut-?off|operating point)s?\b", r"\blook (?:at|into|through) (?:the |its |their )?(?:errors|mistakes|misclassifications|failures|wrong predictions|failure cases)\b", r"\bwhich (?:one |model |variant |of them )?generali[sz]es (?:better|best)\b", r"\bstatistically (?:different|better|worse|meaningful|real|sound|robust)\b", r"\bcompare (?:\w+ ){0,3}fairly\b",
        r"\btrust (?:the|my|these) (?:results|numbers|accuracy|metrics)\b", r"\berror analysis\b",
        r"(?<!-)\bcalibrat(?:ion|ed)\b(?! data|[- ](?:set|batch|samples|images|table|logs?|runs?)\b)", r"\bconfusion matri\w*", r"\bfid\b", r"\bperplexity\b(?! of)",
        r"\bhow (?:do|can|would|will) (?:i|we|you) (?:know|tell|be sure|check|verify)\b",
        r"\bwhat should (?:the |our |my )?(?:test|validation|val|holdout|train/test) (?:split|set)s?\b",
        r"\b(?:check|verify|test|confirm|tell me|tell|find out|show me|let me know|see)\w* (?:whether|if) (?:[\w-]+ ){0,7}(?:better|worse|improv\w*|outperform\w*|beats?|helps?|hurts?|matters?|makes? a difference|moves?|changes?|drops?|goes (?:up|down)|shifts?)\b", r"\bbetter than (?:the |our |a )?baseline\b", r"\bsignifican(?:ce|t)\b",
        r"\bwhat (?:should|do|would) (?:we|i) report\b", r"\b(?:what|which) (?:\w+ )?validation\b", r"\brolling[- ]origin\b", r"\bbacktest\w*",
        r"\bhow (?:should|do|can|would) (?:i|we) (?:measure|compare|test|validate|score|benchmark|evaluate)\b",
        r"\beval(?:s)? (?:plan|strategy|protocol|setup|metrics?|harness)\b", r"\b(?:split|splits|splitting) (?:[\w-]+ ){0,3}for validation\b",
        r"\bis (?:rouge|bleu|f1|auc|accuracy|perplexity|fid|map|iou|mse|mae|rmse)(?: score)? (?:enough|sufficient|the right metric|a good metric)\b",
        r"\bhow to (?:check|verify|tell|know|measure|test|validate|make sure)\b",
        r"\b(?:the )?right (?:thing|metric|measure|number|score) to (?:report|use|track|optimi[sz]e|monitor)\b",
        r"\b(?:is|are) there (?:any )?(?:[\w-]+ ){0,2}leak\w*",
        r"\b(?:proper|fair|rigorous|honest|careful|head-to-head) comparison\b", r"\b(?:fair|proper|right|good|sound|best) way to (?:compare|evaluate|test|validate|benchmark|measure)\b",
        r"\bcompar\w* (?:it|them|this|that|the (?:new )?model) (?:to|with|against) (?:the |our |a )?(?:[\w-]+ ){0,2}baselines?\b",
        r"\bheld-?out \d+ ?%", r"\bpaired (?:t-?)?tests?\b", r"\bcheck (?:it|them|this|the (?:new )?model) against\b",
        r"\bsanity[- ]check\w* (?:on|of) (?:the|our|my|this)\b|\bsanity[- ]check\w* (?:my|our|the|this) (?:[\w-]+ )?(?:split|splits|setup|protocol|evaluation|metrics|numbers|results)\b", r"\bdoes (?:it|the (?:new )?model|this|that) (?:really |actually )?(?:beat|outperform)\b",
        r"\bcompar\w* (?:our |the |these |those )?(?:two|both|\d) (?:[\w-]+ )?(?:variants|models|architectures|configs|approaches|classifiers)\b",
        r"\b(?:accuracy|f1|auc|scores?|results?|numbers?|metrics?)\b[^.?!;]{0,30}\b(?:is|are) (?:really |actually )?(?:real|trustworthy|reliable|legit|believable|too good)\b", r"\b(?:looks?|seems?|sounds?) (?:too good|suspicious|fishy|off|wrong)\b",
        r"\b(?:look into|check|verify|investigate|find out|see|tell me|confirm)\w* (?:whether|if) (?:[\w'-]+ ){0,5}(?:leak\w*|overfit\w*|generali[sz]\w*|representative|biased|too good|real|valid|trustworthy|contaminated)\b",
        # Evaluation deliverables asked for: uncertainty intervals and per-class breakdowns.
        r"\bconfidence intervals?\b", r"\bbootstrap(?:ped)? (?:cis?|intervals?|confidence|error bars|estimates?|resampl\w*)\b",
        r"\b\d+(?:\.\d+)? ?% (?:cis?|confidence|intervals?|credible intervals?)\b", r"\b(?:an?|the|with|and|plus|their|its) cis?\b(?![ /-]?(?:cd|pipelines?|jobs?|builds?|servers?|workflows?|runs?|config\w*|checks?|steps?|systems?)\b)",
        r"\bper[- ]class (?:metrics|precision|recall|f1|f-scores?|accuracy|scores?|results|breakdown|numbers|report)\b",
        r"\b(?:metrics|scores|results|numbers|accuracy|f1|precision|recall) (?:broken down |split |reported )?(?:per|by|for each) class\b",
        r"\berror bars\b", r"\bclassification report\b",
    ),
    "explain": _c(
        r"\bexplain\w*", r"\b(?:any idea|no idea|wonder(?:ing)?|curious|understand|tell me|figure out|find out|know) why\b|\b(?:break down|unpack|spell out) (?:why|how)\b", r"\bwhy (?:does|do|is|are|did|would|should|can|could|might|will|doesn't|don't|isn't|won't)\b", r"\bwhy\s*\?",
        r"\bwhat now\s*\?", r"\bwhat should (?:we|i) try (?:first|next)\b", r"\bshould (?:we|i) [\w-]+ (?:it |the model )?or [\w-]+\s*\?", r"\bhow (?:do|can|could|should) (?:i|we) (?:get|push|bring) (?:it|this|that|the [\w-]+|its [\w-]+) (?:up|down|higher|lower|better)\b", r"\bhow (?:do|can|could|should) (?:i|we) (?:improve|raise|boost|increase|lift) (?:the |its |our |my |this )?(?:[\w-]+ )?(?:f1|accuracy|recall|precision|auc|score|performance)\b", r"\bwhat(?:'s| is| are) the (?:expected|theoretical|typical|likely) (?:speed-?ups?|gains?|savings?|reductions?|improvements?|effects?|impact)\b", r"\b(?:could|might|would|can|is) (?:the |this |that |it |a |my |our )?(?:[\w-]+ ){0,4}be (?:the )?(?:reason|cause|problem|culprit)\b|\bwhat(?:'s| is) (?:causing|behind) (?:this|that|it)\b", r"\b(?:is|are) (?:it|they|we|the model|my model) (?:over|under)fitting\b", r"\bwhat(?:'s| is) going (?:wrong|on)\b|\bwhat went wrong\b|\bwhat am i doing wrong\b|\bwhat (?:could|might) (?:cause|explain) (?:this|that|it)\b", r"\bwhat (?:can|could|should) (?:i|we) do (?:about (?:it|this|that)|to fix|now|besides|other than|instead)\b",
        r"\bhow (?:does|do|did|can) (?:\w+ ){1,6}(?:work|help|reduce|prevent|improve|differ|converge|scale)\b",
        r"\bintuition\w*", r"\bderiv(?:e|ation|ations|ing)\b", r"\bproofs?\b", r"\bprove\b",
        r"\bmath(?:s|ematics|ematical|ematically)?\b", r"\bjustify (?:\w+ )?(?:why|how|that)\b", r"\btheor(?:y|etical|etically|em)\b", r"\bconvergen\w*",
        r"\bwhat(?:'s| is| are| were) (?:the |some )?(?:main |key |real )?trade-?offs?\b", r"\bpros and cons\b",
        r"\bwalk (?:me |us )?through\b", r"\bdifference between\b(?! (?:run|version|v\d|runs|versions)\b)", r"\bteach me\b", r"\beli5\b",
        r"\bformula\w*", r"\bequations?\b", r"\bunderstand\b", r"\bwhat (?:is|are) (?:the )?(?:idea|point|role|purpose|meaning)\b",
        r"\bwhat(?:'s| is| are) (?:a |an |the )?(?:lora|attention|self-attention|batch ?norm\w*|layer ?norm\w*|dropout|"
        r"backprop\w*|gradient descent|adam\w*|lamb|momentum|cosine annealing|warm restarts|diffusion|"
        r"transformers?|convolutions?|residual connections?|state space models?|ssms?|message passing|"
        r"knowledge distillation|quantization|pruning|weight decay|l1|l2|regularization|overfitting|"
        r"vanishing gradients?|softmax|cross[- ]entropy|embeddings?|positional encodings?|kl divergence|lottery ticket)\b",
        r"\bwhat does (?:\w+ ){1,4}(?:do|mean|change|compute|learn|represent|control|affect|buy (?:us|me))\b", r"\bwhat (?:is|are|'s) (?:the |a |an )?(?:[\w-]+ ){1,6}(?:actually |really )?(?:doing|for)\b(?! (?:my|our|the|this|a|an) )", r"\bhow (?:is|are) (?:\w+ ){1,4}(?:computed|calculated|derived)\b",
        r"^\W*how (?:does|do|is|are|can) (?!i\b|we\b|you\b|my\b|our\b)", r"\bwhat (?:can|can't|cannot) (?:an? |the )?(?!you\b|we\b|i\b)\w+ (?:represent|learn|do)\b",
    ),
    "recall": _c(
        r"\bwhat (?:has |have )?worked\b", r"\bworked (?:best|well|before)\b",
        r"\b(?:past|previous|prior|earlier|old|last) (?:\w+ )?(?:designs?|experiments?|runs?|results?|models?|architectures?|attempts?|trials?|sweeps?|studies)\b(?! (?:overfit|underfit|was|were|had|failed|crashed|diverged|went|broke|looked|seemed|is|got stuck)\b)",
        r"\bbest so far\b", r"\blast time\b(?!,? (?:someone|somebody|we|i|they|it|you|he|she) (?:tried|used|did|ran|trained|built|attempted))", r"\b(?:have|did) we (?:ever )?(?:try|tried|use|used|run|ran|train|trained|test|tested|build|built|get|got|reach|reached|hit|manage|managed)\b(?! (?:\w+ )?enough\b)",
        r"\b(?:have|has) (?:we|i|you|anyone|anybody|the team) (?:ever|already|previously|before) (?:\w+ed|built|run|done|made|seen|got|gotten|shipped)\b",
        r"\bwhat did (?:the |our |my )?(?:best|last|previous|winning) (?:[\w-]+ ){0,2}(?:run|model|experiment|config\w*)s? ",
        r"\bwhat (?:did|was|were) (?:the |our |my )?(?:best|last|previous|latest|winning|earlier|prior|most recent) (?:[\w-]+ ){0,3}(?:score|get|reach|achieve|hit|manage)\b",
        r"\bhow (?:did|well did) (?:the |our |my )?(?:best|last|previous|latest|earlier|prior) (?:[\w-]+ ){0,3}(?:do|perform|score)\b",
        r"\bdid (?:the|our|my|that|this|last) (?:[\w-]+ ){0,6}(?:beat|outperform|win|improve|help|work|overfit|converge)\b",
        r"\bremind me\b", r"(?<!precision-)(?<!precision over )(?<!precision vs )(?<!precision or )(?<!precision/)(?<!over )(?<!report )(?<!and )(?<!macro )(?<!micro )(?<!-class )(?<!class )(?<!its )(?<!high )(?<!low )\brecall\b(?! (?:of|on|for|is|was|went|score|@|rate|broken|per|at \d|for each|and precision|over precision|vs\.? precision|/|drops?|is (?:low|high|bad|good))\b)", r"\bhistory\b(?<!rental history)(?<!sales history)(?<!price history)(?<!purchase history)(?<!order history)(?<!medical history)(?<!browsing history)(?<!transaction history)" + _TIME_HISTORY_NOT, r"\bour best\b", r"\bfrom (?:your |the )?memory\b",
        r"\bwhat did (?:we|i|you) (?:use|try|get|build|train|find|pick|choose|design)\b", r"\bleaderboard\b",
        r"\btrack record\b", r"\b(?:top|best)[- ]performing\b", r"\bbefore (?:for|on) (?:this|similar)\b",
        r"\bso far\b", r"\b(?:do|did) we have\b(?! (?:\w+ )?enough\b)", r"\b(?:which|what) (?:[\w-]+ ){0,7}(?:worked|performed|did|scored) (?:best|better|well)\b", r"\bbest (?:\w+ ){0,2}we (?:have|had|got|trained|built|made)\b",
        r"\bdid (?:the|our|my) [^?.]{0,50}\b(?:do|perform|score) (?:better|best|worse)\b", r"\bwhat did we learn\b", r"\b(?:how|what|which)\b[^.?!]{0,40}\b(?:was|were) (?:set|used|chosen|configured|tuned) (?:in|for|by) (?:the |our )?(?:best|last|previous|winning|latest)\b", r"\b(?:which|what) [\w-]+(?: [\w-]+)? did (?:the |our |my )?(?:best|last|previous|winning|top|latest) ", r"\bwhich of (?:our|my|the) (?:saved|existing|stored|previous|past|earlier|old) (?:models|designs|checkpoints)\b", r"\bwhat (?:was|were) (?:its|their) (?:top-\d|accuracy|f1|auc|scores?|loss|results?|numbers|metrics)\b",
        r"\bwe used\b", r"\blook up\b",
        r"\b(?:what|which) (?:\w+ ){0,3}(?:did best|performed best|scored best|won)\b", r"\bretrieve\b",
    ),
}

# A request ends up in one of these when no cue fires but there is something to design.
FALLBACK_INTENT = "design"

MODALITY_CUES: dict[str, list[re.Pattern[str]]] = {
    "image_generation": _c(
        r"\b(?:generat\w*|synthesi[sz]\w*|draw\w*|paint\w*|render\w*) (?:[\w-]+ ){0,4}(?:images?|pictures?|photos?|faces?|artwork|art|digits?|textures?|sprites?|icons?|avatars?|scenes?|slices|scans|portraits?|x-rays?|landscapes?|characters?|logos?|thumbnails?|illustrations?|banners?|wallpapers?|stickers?|emojis?|posters?|renders?|mockups?)\b",
        r"\bcreat\w* (?:new |synthetic |realistic |fake )(?:images?|pictures?|photos?|faces?|art)\b", r"\bgenerators? (?:for|of) (?:[\w-]+ ){0,3}(?:portraits?|images?|faces?|art|pictures?|sprites?|characters?|textures?|photos?)\b",
        r"\b(?:image|face|art|portrait|sprite|texture) generators?\b",
        r"\b(?:image|picture|photo|face|art) (?:generation|synthesis|generator|generative)\b",
        r"\btext[- ]to[- ]image\b", r"\bimage[- ]to[- ]image\b",
        r"\b(?:turns?|convert\w*|translat\w*|transform\w*) (?:[\w-]+ ){0,3}into (?:[\w-]+ ){0,2}(?:photos?|images?|pictures?|paintings?|portraits?|drawings?|sketch(?:es)?|cartoons?|illustrations?|artwork|art|anime|comics?|renders?|mock-?ups?)\b", r"\bsuper[- ]?resolution\b", r"\binpaint\w*", r"\bupscal\w*",
        r"\bgenerative (?:\w+ ){0,2}(?:images?|vision)\b", r"\bstable diffusion\b", r"\bgans?\b",
        r"\bimage (?:editing|denoising|restoration)\b", r"\bcolou?ri[sz]\w*", r"\bstyle transfer\b", r"\brestor\w* (?:old |damaged )?(?:[\w-]+ )?photos?\b", r"\b(?:denois|deblur|restor|upscal|enhanc)\w* (?:\w+ ){0,2}(?:images?|photo(?:graph)?s?|pictures|scans)\b",
    ),
    "text_generation": _c(
        r"\b(?:generat\w*|writes?|writing|compos\w*|complet\w*|invent\w*|come up with|draft(?:s|ing)?|craft(?:s|ing)?) (?:(?!from |with |using |based )[\w-]+ ){0,4}(?:text|stories|story|poems?|poetry|haikus?|limericks?|sonnets?|verses?|songs?|scripts?|fiction|slogans?|taglines?|lyrics|dialogues?|responses?|replies|answers|descriptions?|articles?|copy|emails?|essays?|captions?|tweets?|headlines?|sentences?|paragraphs?|jokes?|names|summaries|recipes)\b",
        r"\b(?:poem|story|text|lyrics?|joke|dialogue|caption|headline|name|recipe|email|reply) generat(?:or|ors|ion)\b",
        r"\btext generation\b", r"\b(?:language|causal|autoregressive) (?:language )?models?\b|\bgenerative (?:language |text )?models?\b(?! (?:for|of|to make|that makes) (?:synthetic|fake|new)? ?(?:transaction|tabular|table|rows?|records?|data))",
        r"\b(?:text|english|natural[- ]language|nl)[- ]to[- ](?:sql|code|bash)\b", r"\b(?:writes?|generat\w*) (?:[\w-]+ )?(?:sql|sql queries)\b",
        r"\bl?lms?\b", r"\bchat ?bots?\b", r"\b(?:model|bot|system|assistant) (?:that|which|to) (?:answers?|answering) (?:[\w-]+ ){0,2}questions\b|\bq ?& ?a (?:pairs|model|bot|dataset|data)\b|\bquestion[- ]answering\b", r"\b(?:caption(?:s|ing)?|describ\w*) (?:[\w-]+ ){0,2}(?:photos?|images?|pictures?|frames|videos?)\b|\bimage caption\w*|\bcaption generat\w*", r"\bconversational\b", r"\bnext[- ](?:token|word|character)\b",
        r"\bautocomplet\w*", r"\bcode (?:generation|completion|assistant)\b", r"\bcomplet\w* (?:[\w-]+ ){0,2}code\b", r"\bstory ?tell\w*",
        r"\bdialog(?:ue)? (?:system|agent|model)\b", r"\bgenerat\w* (?:\w+ )?(?:in the style|like shakespeare)\b",
        r"\bchar(?:acter)?[- ]level\b",
    ),
    "graph": _c(
        r"\bgraphs?\b(?! (?:of|for) (?:the |my |our |all )?(?:last|latest|recent|previous|past|loss|accuracy|metrics?|runs?|results|training|learning curves?)\b)", r"\bgnns?\b", r"\bnodes?\b", r"\bedges\b", r"\bedge lists?\b",
        r"\bsocial networks?\b", r"\bmolecul\w*", r"\bcitation\w*", r"\bknowledge graphs?\b", r"\blink prediction\b",
        r"\bnode classification\b", r"\bdrug discovery\b", r"\bprotein[- ]protein\b", r"\binteraction networks?\b",
        r"\bkarate\b", r"\bcora\b", r"\bmessage passing\b", r"\bfriendship\b", r"\btransaction networks?\b", r"\b(?:transfer|payment|money|account|interaction|co-?authorship|trust|supply|contact) (?:networks?|graphs?)\b",
        r"\badjacency\b", r"\bchemical compounds?\b",
        r"\brecommendation (?:graph|network)\b", r"\bpower grid\b",
        r"\b(?:recommend\w*|suggest\w*) (?:new )?friends\b", r"\bfriend (?:recommendations?|suggestions?)\b", r"\bsocial graph\b", r"\broad networks?\b", r"\bco-?purchase\b", r"\bbipartite\b", r"\buser-item\b",
    ),
    "sequence": _c(
        r"\btime series\b", _TIME_HISTORY, r"\b\d+\s?(?:h|hours?|days?|steps?|weeks?|months?)[- ]ahead\b", r"\bforecast\w*", r"\blong[- ](?:range|context|sequences?|documents?)\b",
        r"\bsequences?\b(?! to sequence|-to-sequence| lengths?\b| len\b)", r"\baudio\b", r"\bspeech\b", r"\bsounds?\b", r"\bgenom\w*",
        r"\bdna\b", r"\brna\b", r"\bprotein sequences?\b", r"\bsensors?\b", r"\bsignals?\b", r"\becgs?\b", r"\beegs?\b",
        r"\bstock (?:prices?|market)\b", r"\bclickstream\w*", r"\baccelerometer\w*", r"\bvibration\w*",
        r"\btelemetry\b", r"\blog (?:lines|streams?|data)\b", r"\bwaveforms?\b", r"\bmusic\b", r"\bvoice\b",
        r"\bkeyword spotting\b", r"\btemporal\b", r"\benergy (?:demand|consumption|load)\b", r"\bweather\b",
        r"\bwearables?\b", r"\bheart[- ]?rate\b",
        r"\bsequential data\b", r"\btokens? long\b", r"\bsales (?:forecast|history)\b", r"\bdemand forecast\w*",
        r"\bsongs?\b", r"\bbird ?songs?\b", r"\b(?:bird|animal|whale|frog|bat) ?(?:calls|sounds|chirps|vocali[sz]ations)\b", r"\bclips\b", r"\bacoustic\w*", r"\brecordings?\b", r"\bpodcasts?\b", r"\btick data\b",
        r"\bvolatility\b", r"\bnext-(?:day|week|hour|month)\b", r"\bevery (?:minute|second|hour|day)\b", r"\bevery (?:few|couple of|\d+) (?:minutes|seconds|hours|days)\b",
        r"\bpredict(?:ing)? failures?\b", r"\bkeyword[- ]spotting\b", r"\bwake[- ]?words?\b", r"\bhotwords?\b", r"\breadings\b",
        r"\bresidues\b", r"\bspeakers?\b", r"\bpredictive maintenance\b",
        r"\bamino[- ]acids?\b", r"\bpeptides?\b", r"\bscada\b", r"\banomal\w* (?:[\w-]+ ){0,2}(?:metrics|logs|traffic|readings|signals)\b",
        r"\b(?:server|system|cpu|network|infrastructure) metrics\b",
        r"\b(?:daily|weekly|monthly|hourly|quarterly|yearly|per-minute|minute-level|hour-level)\s+(?:[\w-]+\s+){0,2}(?:sales|revenue|demand|visits|traffic|prices|counts|orders|bookings|values|readings|usage|volumes?|data|figures|numbers|series|totals|consumption|load|footfall|returns|rentals|history|histories|logs|metrics|measurements|signals)\b",
        r"\bnext (?:week|month|day|quarter|year|hour)'?s?\b", r"\b\d+ (?:years|months|weeks|days) of (?:daily|weekly|monthly|hourly|historical|past|minute-level|per-minute|hour-level|second-level)\b", r"\banomal\w* in (?:\w+ )?(?:metrics|logs|traffic)\b",
    ),
    "image": _c(
        r"(?<!docker )(?<!container )(?<!base )(?<!previous )(?<!old )(?<!last )(?<!latest )(?<!same )(?<!serving )\bimages?\b(?! (?:to|into|on) (?:our |the |a )?(?:docker |container |private )?(?:registry|hub))", r"\bphotos?\b", r"\bpictures?\b", r"\bpixels?\b", r"\bvision\b", r"\bvisual\b",
        r"\bx-?rays?\b", r"\bmri\b", r"\bct scans?\b", r"\bscans\b", r"\bscanned (?:[\w-]+ )?(?:invoices|documents|pages|forms|receipts|letters)\b", r"\b(?:png|jpe?g|tiff?|webp)s?\b(?!\s*(?:plots?|charts?|figures?|of the (?:curve|plot)))", r"\b\d+ ?dpi\b", r"\bsatellite\b", r"\baerial\b", r"\bdigits?\b",
        r"\bmnist\b", r"\bcifar\w*", r"\bimagenet\b", r"\bobject detection\b", r"\bdetect \w+ in (?:images|photos|video)\b",
        r"\bsegment\w*", r"\bcameras?\b", r"\bskin lesions?\b", r"\bfaces?\b", r"\bdefects?\b", r"\bvideos?\b",
        r"\bhistopatholog\w*", r"\bradiolog(?!\w* (?:reports?|notes|texts?|findings))\w*", r"\bmammogra\w*", r"\bretina\w*", r"\bdermatolog\w*",
        r"\bhandwrit\w*", r"\bocr\b(?!'?e?d\b)", r"\bmicroscop\w*", 
        
        r"\bplant[- ]diseases?\b", r"\bx-ray\b", r"\bthumbnails?\b", r"\bframes\b", r"\bper frame\b", r"\bultrasound\b",
        r"\bretinopathy\b", r"\bfundus\b", r"\btelescopes?\b", r"\bcutouts?\b", r"\bimagery\b", r"\bretinal\b", r"\bpedestrians?\b", r"\bfootage\b", r"\bcctv\b", r"\bsurveillance\b",
        r"\blicense plates?\b", r"\btraffic signs?\b", r"\bdermoscop\w*", r"\blesions?\b", r"\bportraits?\b", r"\bselfies?\b",
        r"\bparcels?\b(?= .*\bphotos?\b)", r"\bicons?\b", r"\bwebcams?\b", r"\bcamera (?:feeds?|streams?)\b", r"\bvideo (?:feeds?|streams?)\b", r"\bsign[- ]language\b", r"\b(?:rgb|grayscale|greyscale)\b", r"\bblurry\b", r"\bscreenshots?\b", r"\bslides\b", r"\binsects?\b", r"\bwildlife\b",
    ),
    "tabular": _c(
        r"\btabular\b", r"\btables?\b(?! (?:comparing|showing|summari[sz]ing|listing|with (?:the )?(?:results|metrics|scores|numbers)|of (?:the )?(?:results|metrics|scores|runs|versions|trade-?offs|pros|options|differences)))", r"\bcsv\b", r"\bspreadsheets?\b", r"\bexcel\b", r"\bchurn\b", r"\bfraud\b",
        r"\bcredit\b", r"\bloans?\b", r"\bcolumns?\b", r"\brows\b", r"\bstructured data\b", r"\btransactions?\b",
        r"\bhous(?:e|ing) prices?\b", r"\bparquet\b", r"\bsql\b", r"\bcustomer (?:data|records|features|attributes)\b",
        r"\blightgbm\b", r"\bcatboost\b", r"\brandom forests?\b", r"\bgradient[- ]boost\w*",
        r"\bboosted trees\b", r"\bfeatures? (?:table|matrix)\b", r"\bclaims\b", r"\binsurance\b", r"\bpatient records\b",
        r"\bbreast[_ ]cancer\b", r"\biris\b", r"\bwine\b", r"\bsurvey\b", r"\bcensus\b", r"\bderived features\b",
        r"\bnumeric(?:al)? features\b", r"\bcategorical\b", r"\b(?:one )?rows? per\b", r"\bfeatures? per (?:store|customer|user|row|entity|patient|product)\b", r"\blead scoring\b", r"\bdefault risk\b", r"\bpricing\b",
    ),
    "text": _c(
        r"\btexts?\b", r"\btextual\b", r"\b(?:support|customer|live|agent) chats?\b|\bchat (?:logs|transcripts|messages|histories)\b", r"\bocr'?e?d (?:[\w-]+ )?(?:text|invoices|documents|pages|forms|receipts|letters)\b", r"\b(?:product|article|paper|video|page) titles\b", r"\bnlp\b", r"\bsentiment\b", r"\breviews\b|\breview (?:classifier|classification|model|tagger)s?\b|\b(?:product|customer|user|movie|app|hotel|restaurant|book|amazon|yelp|imdb|written|online|star) reviews?\b|\breview (?:texts?|data|corpus|dataset|sentiment)\b", r"\bdocuments?\b", r"\btweets?\b",
        r"\bemails?\b", r"\bnamed entit\w*", r"\bner\b", r"(?<!lottery )\btickets?\b", r"\blegal\b", r"\bquestion answering\b",
        r"\btranslat(?!\w* (?:[\w-]+ ){0,8}(?:in)?to (?:plain |pure )?(?:pytorch|keras|jax|flax|tensorflow|torch|code|python)\b)\w*", r"\bsummari[sz]\w*\b(?! (?:what|how|the (?:results|runs|findings|metrics|numbers|studies|experiments|sweeps?|trials)))", r"(?<!in one )(?<!in two )(?<!in three )(?<!in a few )(?<!in a couple of )(?<!in simple )(?<!in plain )\bsentences?\b", r"\bspam\b", r"\bintent (?:classification|detection|classifiers?|recognition|models?|detectors?)\b", r"\butterances\b",
        r"\btokens?\b", r"\bcorpus\b", r"\bparaphras\w*",
        r"\bcomments?\b", r"\bchat logs?\b", r"\bclinical notes\b", r"\btranscripts?\b", r"\b(?:description|free|memo|comment|narrative|notes?)[- ]?(?:text|fields?)s?\b", r"\barticles?\b", r"\bnews\b", r"\bheadlines?\b",
        r"\bsequence[- ]to[- ]sequence\b", r"\bseq2seq\b", r"(?<!sign-)(?<!sign )\blanguage\b", r"\bwords?\b", r"\bcaptions?\b",
        r"\bqueries\b", r"\bproduct descriptions?\b", r"\btopic\w*", r"\btoxic\w*", r"\bhate speech\b",
        r"\bmedical notes\b", r"\bcontracts?\b", r"\b(?:radiology|pathology|medical|clinical|incident|bug|police|financial|annual|analyst|discharge|inspection|audit) reports?\b",
        r"\bcvs\b", r"\bjob (?:ads|adverts|postings|descriptions|offers)\b", r"\bstack overflow\b", r"\bfaqs?\b", r"\b(?:user|customer|support|incoming) (?:questions|queries|requests|messages|complaints|inquiries)\b", r"\bresumes?\b", r"\bsupport messages\b", r"\b(?:chat|customer|user|support|incoming|inbound) messages?\b",
    ),
}

# Phrases that decide sequence-to-sequence text work (architecture t5, modality text).
SEQ2SEQ = re.compile(
    r"\b(?:sequence[- ]to[- ]sequence|seq2seq|translat(?!\w* (?:[\w-]+ ){0,8}(?:in)?to (?:plain |pure )?(?:pytorch|keras|jax|flax|tensorflow|torch|code|python)\b)\w*|summari[sz]\w*\b(?! (?:what|how|the (?:results|runs|findings|metrics|numbers|studies|experiments|sweeps?|trials)))|paraphras\w*|encoder[- ]decoder|"
    r"question generation|text simplification|grammar correction|headline generation|data-to-text|"
    r"convert \w+ (?:text|sentences) into)\b")

# Named families (the user's words win): the catalogue's aliases of each family plus the other
# names people use for it. Aliases that are everyday words in other senses are left out
# ("encoder" is also half of an encoder-decoder, "residual connections" are in every transformer).
_AMBIGUOUS_ALIASES = frozenset({"encoder", "residual", "feed-forward", "unet", "seq2seq", "sequence-to-sequence"})
_MORE_NAMES: dict[str, str] = {
    "graphsage": r"\bgraph ?sage\b|\bsage ?conv\b|\bsage\b",
    "gat": r"\bgats?\b|\bgraph attention\w*",
    "gcn": r"\bgcns?\b|\bgraph convolution\w*",
    "efficientnet": r"\befficient-?nets?\w*|\bmobilenet\w*|\bmnasnet\b|\bsqueezenet\b|\bshufflenet\b",
    "convnext": r"\bconvnext\w*",
    "resnet": r"\bres-?nets?\w*|\bresidual (?:network|net|cnn)s?\b|\bresnext\b|\bwide resnet\b",
    "vit": r"\bvits?\b|\bvision transformers?\b|\bdeit\b|\bswin\b|\bvit-\w+",
    "diffusion": r"\bdiffusion\b|\bddpm\b|\bddim\b|\bscore-based\b|\bdenoising diffusion\b",
    "mamba": r"\bmamba\b|\bstate[- ]space(?: models?)?\b|\bssms?\b|\bs4\b|\bselective scan\b",
    "t5": r"\bt5\b|\bflan-?t5\b|\bbart\b|\bmt5\b|\bencoder[- ]decoder\b|\bmarian\w*",
    "gpt": r"\bgpt[\w.-]*|\bllama\w*|\bmistral\b|\bdecoder[- ]only\b|\bcausal (?:lm|language model|transformer)\b|"
           r"\bllms?\b|\btransformer decoder\b|\bqwen\w*|\bphi-\d\b|\bgemma\b|\bfalcon\b|\bnanogpt\b",
    "bert": r"\bbert\b|\broberta\b|\bdistil-?bert\b|\bdeberta\w*|\balbert\b|\belectra\b|\bminilm\w*|\bencoder-only\b|"
            r"\bsentence[- ]transformers?\b|\bscibert\b|\bbiobert\b|\blegal-?bert\b|\bfinbert\b|\bmodernbert\b|\bbert-\w+",
    "xgboost": r"\bxgboost\b|\blightgbm\b|\bcatboost\b|\bgradient[- ]boost\w*|\bboosted (?:decision )?trees\b|\bboosted (?:model|classifier|regressor|ensemble)s?\b|\brandom forests?\b|\bgbdt\b|\bgbm\b",
    "mlp": r"\bmlps?\b|\bmulti-?layer perceptrons?\b|\bfeed-?forward (?:neural )?(?:network|net)s?\b|\bfully[- ]connected (?:network|net)s?\b|\bdense (?:neural )?network\b",
    "cnn": r"\bcnns?\b|\bconv-?nets?\b|\bconvolutional(?: neural)?(?: network| net|s)?\b|\blenet\b|\bvgg\w*|\balexnet\b",
}


def _alias_pattern(alias: str) -> str:
    words = [re.escape(w) for w in re.split(r"[- ]", alias.lower()) if w]
    return r"\b" + r"[- ]?".join(words) + r"s?\b"


def _family_cues() -> list[tuple[str, FastPattern]]:
    from tensor_agent.catalogue import FAMILIES

    cues = []
    for name, spec in FAMILIES.items():
        alts = [_alias_pattern(a) for a in (name, *spec.aliases) if a.lower() not in _AMBIGUOUS_ALIASES]
        if name in _MORE_NAMES:
            alts.append(_MORE_NAMES[name])
        cues.append((name, compile_fast("|".join(dict.fromkeys(alts)))))
    return cues


ARCH_CUES: list[tuple[str, FastPattern]] = _family_cues()

# Named models we do not build, with the family we build instead.
NEAREST_FAMILY = {
    "lstm": "mamba", "gru": "mamba", "rnn": "mamba", "tcn": "mamba", "wavenet": "mamba", "unet": "diffusion",
    "u-net": "diffusion", "yolo": "cnn", "inception": "efficientnet", "densenet": "resnet", "regnet": "resnet",
    "gin": "gcn", "graphormer": "gat", "clip": "vit", "whisper": "mamba", "word2vec": "bert",
}
NEAREST_RE = re.compile(r"\b(lstms?|grus?|rnns?|tcn|wavenet|u-?net|yolo\w*|inception\w*|densenet\w*|regnet\w*|gin|graphormer|clip|whisper|word2vec)\b")
UNKNOWN_MODEL_RE = re.compile(r"\b([A-Z][A-Za-z]*(?:Net|Former|former|GPT|BERT|Mixer)[-_]?[A-Za-z0-9.]*|[A-Z][A-Za-z]+-\d{2,}[A-Za-z]*)\b")

# Peer cues beyond the intents themselves.
AXIOM_CUES = re.compile(
    r"\bderiv(?:e|ation|ations|ing)\b|\bproofs?\b|\bprove\b|\bconvergen\w*|\btheor(?:y|etical|etically|em)\b|"
    r"\bmath(?:s|ematics|ematical|ematically)?\b|\bformula\w*|\bequations?\b|\bgradient (?:of|derivation)\b|"
    r"\bclosed[- ]form\b|\bbound(?:s)? on\b|\bfirst principles\b")
VELOCITY_CUES = re.compile(
    r"\blatenc\w*|\bthroughput\b|\breal[- ]?time\b|\bfps\b|\bframes per second\b|\bqps\b|\bqueries per second\b|"
    r"\brequests per second\b|\b\d+(?:\.\d+)? ?(?:ms|milliseconds?)\b|\binference (?:speed|time)\b|\bspeed ?up (?:\w+ )?inference\b|"
    r"\bfaster inference\b|\blow-latency\b|\bresponse time\b|\btokens per second\b|\bsub-?millisecond\b|\bmicroseconds?\b|"
    r"\b\d[\d,.]*\s*k?\s*(?:[\w-]+\s+)?(?:images?|photos?|frames?|requests?|queries|inferences?|predictions?|documents?|messages?)\s+(?:a|an|each|every) (?:second|sec)\b|"
    r"\bon-device speed\b|\bruns? fast\b|\bfast enough\b|(?<!row )(?<!rows )(?<!sample )(?<!samples )(?<!reading )(?<!readings )(?<!record )(?<!records )(?<!measurement )(?<!measurements )(?<!value )(?<!values )(?<!point )(?<!points )\bper second\b|\b(?:requests?|req|queries|predictions|inferences)/s(?:ec)?\b|/sec\b|\bp9[59]\b")
PRISM_CUES = re.compile(
    r"\bclean\w*\b(?! (?:test|split|holdout|validation|eval\w*|set|slate|run|install|environment|build|copy|checkout|start)\b)|\blabels?\b[^.?!;]{0,40}\b(?:heuristics?|weak|unreliable|\d+% (?:right|correct|accurate))\b|\bweak(?:ly)? (?:labels|supervision|labell?ed)\b|\bpre-?process\w*|\bdata prep\w*|\bprepar\w* (?:\w+ )?(?:data|dataset|features)\b|\baugment(?!\w* (?:research|papers?|literature|studies|strength|magnitude|probability|prob|rate|level|policy)\b)\w*|"
    r"\bimbalanc\w*|\b\d+(?:\.\d+)?\s*%[\s-]?(?:positives?|negatives?|positive (?:class|rate)|fraud|churners|defects?|anomal\w*)\b|\brare (?:positives|class|events)\b|\bunbalanced\b|\bmissing (?:values|data|entries|fields)\b|\bimput\w*|\bfeature engineer\w*|"
    r"\blabel noise\b|\blabel(?:ling|ing)? (?:errors|mistakes|issues)\b|\b(?:re-?)?balanc(?:e|es|ing) (?:the |our |my )?(?:classes|dataset|data|labels|training set|it|them)\b|\bnoisy labels?\b|\blabels? (?:are|is|look|seem) (?:\w+ )?noisy\b|\bnoisy\b|\bmessy\b|\bfeatures? (?:\w+ ){0,3}engineer\w*|\bengineer\w* (?:\w+ ){0,2}features?\b|\bmissing (?!out\b|something\b|anything\b|here\b|the point\b)\w+|\bmislabel\w*|\bexploratory\b|\beda\b|\boutliers?\b|\banaly[sz](?:e|is|ing) (?:\w+ ){0,2}(?:data|dataset|features|distribution)\b|"
    r"\bdata analysis\b|\bdata quality\b|\bdedup\w*|\bduplicates\b|\bre-?label\w*\b|\bremap\w* (?:the |them|these|those|labels|classes|categories)|\b(?:near-)?duplicate (?:rows|records|frames|images|photos|entries|samples|examples|texts|reviews|tickets)\b|\b(?:test|validation|val|holdout|eval) (?:[\w-]+ )?(?:also )?(?:appears?|overlaps?|shows? up) (?:also )?in (?:the )?(?:training|train)\b|\bmix-?up\b|\bcut-?mix\b|\bwatermarks?\b|\bcrop\w* (?:them |it |the [\w-]+ )?out\b|\b(?:labels?|classes|categories) (?:[\w'-]+ ){0,6}overlap\w*|\bmerg\w* (?:the |these |those |two |some )?(?:labels|classes|categories|them)\b|\bnan(?:s| values)\b|\bnull values\b|\bnulls\b|\bfill\w* (?:in )?(?:them|the (?:gaps|nans|nulls|blanks|holes))\b|\bconvert\w* (?:everything|all (?:the )?(?:values|amounts|prices|columns)|the (?:[\w-]+ )?(?:values|amounts|prices|columns|units|currencies|dates|timestamps)) (?:to|into)\b|\bclass (?:distribution|balance)\b|\bduplicated\b|\bleaky\b|\bminority class\b|\b(?:up|down)sampl\w* (?:the )?(?:minority|majority|rare|positive|negative)\b|\bskewed\b|\bclass weights?\b|\bresampl\w*|\boversampl\w*|"
    r"\bundersampl\w*|\bsmote\b|\b(?:normali[sz]|standardi[sz]|rescal)\w* (?:all |the |my |our )?(?:[\w-]+ )?(?:data|features|inputs|columns|images|that|it|everything)\b|\bone-hot\b|\b(?:drop|remove|delete|filter out|strip)\w* (?:the |all |any )?(?:[\w-]+ ){0,3}(?:rows|columns|duplicates|outliers|nulls|nans|records|entries)\b|\bscal(?:e|ing) (?:the )?features\b|"
    r"\bencod(?:e|ing) (?:the )?categorical\b|\bdata leakage\b|\b(?:splits?|sets?|folds?) (?:\w+ )?leak(?:s|ing|ed|age)?\b|\b(?:check|look|test|audit|fix|find|spot|hunt)\w* (?:the |for |any |possible )?(?:data |label |target )?leak\w*|\b(?:check|look|test|audit)\w* for (?:[\w-]+ ){0,3}leak\w*|\bleak\w* (?:between|from|across|into)\b|\bdistribution shift\b|\bdata drift\b|\b(?:data|distribution|inputs?|labels?) (?:has |have )?(?:drifted|shifted|changed)\b|\btokeni[sz]ation\b|"
    r"\bprofil(?:e|ing) (?:the |my )?data\b|\bdata (?:get |gets |got )?(?:profiled|cleaned)\b|\bprofiled\b|\bwrangl\w*|\btid(?:y|ied|ying) (?:it |them |this |that |the [\w-]+ )?up\b|\btypos? in\b|\b1\s?:\s?\d{2,}\b(?!\s*(?:am|pm))|\bfeature selection\b|\bselect\w* (?:the )?(?:useful |relevant |best |important |top )?features\b|\bcorrupt(?:ed)? (?:data|labels|images)\b")
# A throughput target ("2k images/sec", "400 images a second", "50 QPS"): an efficiency requirement like a latency budget.
THROUGHPUT_RE = re.compile(
    r"\bthroughput\b|\bfps\b|\bqps\b|\brps\b|\b\d[\d,.]*\s*k?\s*(?:[\w-]+\s+)?(?:images?|photos?|frames?|requests?|req|queries|inferences?|"
    r"predictions?|samples?|items?|documents?|messages?|tokens?)\s*(?:/\s*s(?:ec)?\b|per (?:second|sec)\b|(?:a|an|each|every) (?:second|sec)\b)")
ECLIPSE_CUES = re.compile(
    r"\bevaluation (?:strategy|plan|protocol|scheme|methodology|framework)\b|\bhow (?:should|do|can|would) (?:i|we) (?:evaluate|validate|test|measure|benchmark)\b")

DELEGATE_RE = re.compile(r"\b(?:ask|asking|consult|consulting|loop in|involve|cc|tell|inform|notify|ping|update|brief|(?:send|pass|hand|give|forward|share)\w* (?:it|this|that|them|the [\w-]+(?: [\w-]+)?) (?:to|with)|with help from|hand (?:it )?(?:off )?to|check with|get|let|have|pull in|bring in|by)\s+(?:@)?$")

MOBILE_RE = re.compile(r"\b" + _DEVICE + r"\b")
